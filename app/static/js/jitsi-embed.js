/*
 * Interview Room: embeds every .jitsi-call container with the Jitsi IFrame API.
 *
 * The page (templates/_jitsi_embed.html) puts everything in data attributes; this file loads
 * https://<domain>/external_api.js once, joins with the page's fresh token, keeps the visible
 * status line up to date, starts the recording where the page asks for it, and reports the
 * events staff must know about to the server. Plain ES2017, no build step, no inline script.
 * It defines no globals; a test may define window.JitsiMeetExternalAPI before it runs, and
 * then no script is injected.
 */
(function () {
  'use strict';

  // The partial includes this file once per call, and htmx swaps may add it again: the first
  // copy handles every call on the page, later copies do nothing.
  var root = document.documentElement;
  if (root.hasAttribute('data-ir-jitsi-embed')) {
    return;
  }
  root.setAttribute('data-ir-jitsi-embed', '');

  const STAFF_ROLES = ['examiner', 'assistant', 'chief'];
  const RECORDING_ROLES = ['assistant', 'chief']; // app/jitsi/embed.py RECORDING_ROLES
  // The words under a call come from the page (data-jitsi-words, app/jitsi/embed.py
  // CALL_WORDS), in the reader's language.
  const parsedWords = new WeakMap();
  function words(el) {
    if (!parsedWords.has(el)) {
      let own;
      try {
        own = JSON.parse(el.getAttribute('data-jitsi-words') || '{}');
      } catch (err) {
        own = {};
      }
      parsedWords.set(el, own);
    }
    return parsedWords.get(el);
  }
  const API_LOAD_TIMEOUT_MS = 20000;
  // Jitsi announces a recording that is already running shortly after the join: wait for it
  // rather than asking Jibri for a second one.
  const RECORDING_START_DELAY_MS = 3000;
  // Jibri needs a few seconds to start; silence for this long means it never will.
  const RECORDING_CONFIRM_MS = 60000;

  const calls = new Map(); // container element -> its state
  const loaders = new Map(); // external_api.js URL -> Promise

  function csrfToken() {
    try {
      const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}');
      return headers['X-CSRFToken'] || '';
    } catch (err) {
      return '';
    }
  }

  // Event payloads hold nested objects and DOM-ish things: keep short primitive values only.
  function flatten(detail) {
    const out = {};
    if (!detail || typeof detail !== 'object') {
      return out;
    }
    Object.keys(detail).slice(0, 10).forEach(function (key) {
      const value = detail[key];
      if (value === null || value === undefined) {
        return;
      }
      if (['string', 'number', 'boolean'].indexOf(typeof value) !== -1) {
        out[key] = String(value).slice(0, 200);
      }
    });
    return out;
  }

  function report(el, event, detail, keepalive) {
    const url = el.getAttribute('data-jitsi-events');
    if (!url || typeof fetch !== 'function') {
      return Promise.resolve();
    }
    const body = JSON.stringify({
      event: event,
      kind: el.getAttribute('data-jitsi-kind'),
      room: el.getAttribute('data-jitsi-room'),
      detail: flatten(detail)
    });
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      keepalive: Boolean(keepalive), // still delivered while the page unloads
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrfToken()},
      body: body
    }).catch(function () { /* a lost report must never break the call */ });
  }

  function setStatus(el, text, tone) {
    const line = el.querySelector('[data-jitsi-status]');
    if (!line) {
      return;
    }
    line.textContent = text;
    line.classList.remove('ok', 'warn', 'danger');
    if (tone) {
      line.classList.add(tone);
    }
    // Failures interrupt a screen reader; progress waits its turn.
    line.setAttribute('aria-live', tone === 'danger' ? 'assertive' : 'polite');
  }

  function loadApi(url) {
    if (typeof window.JitsiMeetExternalAPI === 'function') {
      return Promise.resolve();
    }
    if (!loaders.has(url)) {
      loaders.set(url, new Promise(function (resolve, reject) {
        const script = document.createElement('script');
        const timer = setTimeout(function () {
          reject(new Error('external_api.js timed out'));
        }, API_LOAD_TIMEOUT_MS);
        script.src = url;
        script.async = true;
        script.onload = function () {
          clearTimeout(timer);
          resolve();
        };
        script.onerror = function () {
          clearTimeout(timer);
          reject(new Error('external_api.js failed to load'));
        };
        document.head.appendChild(script);
      }));
    }
    return loaders.get(url);
  }

  // The device-check page stores the chosen device ids; the IFrame API picks initial devices
  // by label, which this origin may read because the candidate granted it the camera there.
  async function chosenDevices() {
    let cameraId;
    let micId;
    try {
      cameraId = window.localStorage.getItem('ir.cameraId');
      micId = window.localStorage.getItem('ir.micId');
    } catch (err) {
      return null;
    }
    if (!cameraId && !micId) {
      return null;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) {
      return null;
    }
    const found = await navigator.mediaDevices.enumerateDevices();
    const label = function (kind, id) {
      const device = found.find(function (d) { return d.kind === kind && d.deviceId === id; });
      return device && device.label ? device.label : null;
    };
    const devices = {};
    const camera = cameraId && label('videoinput', cameraId);
    const mic = micId && label('audioinput', micId);
    if (camera) {
      devices.videoInput = camera;
    }
    if (mic) {
      devices.audioInput = mic;
    }
    return Object.keys(devices).length ? devices : null;
  }

  function toolbar(el) {
    try {
      const buttons = JSON.parse(el.getAttribute('data-jitsi-toolbar') || '[]');
      return Array.isArray(buttons) ? buttons : [];
    } catch (err) {
      return [];
    }
  }

  function frameHeight() {
    return Math.max(360, Math.round((window.innerHeight || 720) * 0.7));
  }

  function failToLoad(el, err) {
    setStatus(el, words(el).loadFailed, 'danger');
    report(el, 'errorOccurred', {
      name: 'ExternalApiUnavailable',
      message: err && err.message ? err.message : String(err),
      isFatal: true
    });
  }

  function isStaff(el) {
    return STAFF_ROLES.indexOf(el.getAttribute('data-jitsi-role')) !== -1;
  }

  function wantsRecording(el) {
    return el.getAttribute('data-jitsi-record') === 'true';
  }

  function mayRecord(el) {
    return RECORDING_ROLES.indexOf(el.getAttribute('data-jitsi-role')) !== -1;
  }

  // A staff page asks a running call to start recording without reloading it (a reload would
  // drop everyone's video for seconds): the server answers the action that needs the recording
  // (e.g. the chief's "start timer") with `HX-Trigger: {"ir:start-recording": {"room": ROOM}}`.
  function onStartRecordingRequest(event) {
    const wanted = event.detail && event.detail.room ? String(event.detail.room) : null;
    calls.forEach(function (state, el) {
      const room = el.getAttribute('data-jitsi-room') || '';
      if (!mayRecord(el) || wantsRecording(el)) {
        return;
      }
      if (wanted && room !== wanted && room.split('/').pop() !== wanted) {
        return;
      }
      el.setAttribute('data-jitsi-record', 'true');
      if (state.joined) {
        startRecording(el, state);
      } // else: the videoConferenceJoined handler starts it
    });
  }

  function startRecording(el, state) {
    state.recordingTimer = setTimeout(function () {
      if (!state.joined || state.recording === 'on') {
        return;
      }
      try {
        state.api.executeCommand('startRecording', {mode: 'file'});
      } catch (err) {
        recordingFailed(el, state, err && err.message ? err.message : 'startRecording failed');
        return;
      }
      state.recordingTimer = setTimeout(function () {
        if (state.joined && state.recording !== 'on' && state.recording !== 'error') {
          recordingFailed(el, state, 'no confirmation within ' + RECORDING_CONFIRM_MS / 1000 + ' s');
        }
      }, RECORDING_CONFIRM_MS);
    }, RECORDING_START_DELAY_MS);
  }

  // Our own finding (a command that threw, no answer from Jibri) reported like Jitsi's own.
  function recordingFailed(el, state, reason) {
    state.recording = 'error';
    setStatus(el, words(el).recordingFailed + reason, 'danger');
    report(el, 'recordingStatusChanged', {on: false, mode: 'file', error: reason, source: 'page'});
  }

  function onRecordingStatus(el, state, event) {
    const e = event || {};
    if (e.mode && e.mode !== 'file') {
      return; // live streaming is off in every token; nothing to show
    }
    if (e.on) {
      state.recording = 'on';
      setStatus(el, words(el).recording, 'ok');
    } else if (e.error) {
      state.recording = 'error';
      if (isStaff(el)) {
        setStatus(el, words(el).recordingFailed + e.error, 'danger');
      } else {
        setStatus(el, words(el).joined, 'ok');
      }
    } else {
      state.recording = 'off';
      if (isStaff(el) && wantsRecording(el) && state.joined) {
        setStatus(el, words(el).recordingStopped, 'warn');
      } else if (state.joined) {
        setStatus(el, words(el).joined, 'ok');
      }
    }
  }

  // Every event wired here is reported; the server keeps those in EVENTS (app/day/call_reports.py).
  function wire(el, state) {
    const api = state.api;
    const on = function (name, handler) {
      api.addListener(name, function (event) {
        if (handler) {
          handler(event || {});
        }
        report(el, name, event);
      });
    };
    on('videoConferenceJoined', function () {
      state.joined = true;
      waitingRoomJoined(el, state);
      setStatus(el, state.recording === 'on' ? words(el).recording : words(el).joined, 'ok');
      if (wantsRecording(el)) {
        startRecording(el, state);
      }
    });
    on('videoConferenceLeft', function () {
      state.joined = false;
      clearTimeout(state.recordingTimer);
      setStatus(el, words(el).left);
    });
    on('participantJoined');
    on('participantLeft');
    on('cameraError', function () { setStatus(el, words(el).camera, 'danger'); });
    on('micError', function () { setStatus(el, words(el).mic, 'danger'); });
    on('recordingStatusChanged', function (event) { onRecordingStatus(el, state, event); });
    on('readyToClose');
    on('errorOccurred', function (event) {
      if (event.isFatal) {
        setStatus(el, words(el).fatal, 'danger');
      }
    });
  }

  // The call's own camera, as the IFrame API tells this page, written on the container for
  // other scripts (the phone page reports it: static/js/phone.js): data-jitsi-joined
  // "true"/"false", data-jitsi-video "on"/"off". Each change fires `ir:own-video` on the body.
  function trackOwnVideo(el, api) {
    const set = function (joined, video) {
      el.setAttribute('data-jitsi-joined', joined ? 'true' : 'false');
      el.setAttribute('data-jitsi-video', video);
      document.body.dispatchEvent(new CustomEvent('ir:own-video', {detail: {video: video}}));
    };
    api.addListener('videoConferenceJoined', function () {
      set(true, el.getAttribute('data-jitsi-video') === 'off' ? 'off' : 'on');
      if (typeof api.isVideoMuted === 'function') {
        Promise.resolve(api.isVideoMuted()).then(function (muted) {
          set(true, muted ? 'off' : 'on');
        }).catch(function () { /* keep what we know */ });
      }
    });
    api.addListener('videoMuteStatusChanged', function (event) {
      set(el.getAttribute('data-jitsi-joined') === 'true', event && event.muted ? 'off' : 'on');
    });
    api.addListener('cameraError', function () {
      set(el.getAttribute('data-jitsi-joined') === 'true', 'off');
    });
    api.addListener('videoConferenceLeft', function () { set(false, 'off'); });
  }

  async function start(el) {
    if (calls.has(el)) {
      return;
    }
    const state = {api: null, joined: false, recording: null, recordingTimer: null};
    calls.set(el, state);
    setStatus(el, words(el).connecting);
    try {
      await loadApi(el.getAttribute('data-jitsi-api'));
    } catch (err) {
      failToLoad(el, err);
      return;
    }
    if (typeof window.JitsiMeetExternalAPI !== 'function') {
      failToLoad(el, new Error('JitsiMeetExternalAPI is not defined'));
      return;
    }
    let devices;
    try {
      devices = await chosenDevices();
    } catch (err) {
      devices = null; // the defaults are better than no call
    }
    if (!el.isConnected) {
      calls.delete(el); // swapped away while loading
      return;
    }
    const silent = el.getAttribute('data-jitsi-silent') === 'true';
    const options = {
      roomName: el.getAttribute('data-jitsi-room'),
      parentNode: el.querySelector('[data-jitsi-frame]') || el,
      width: '100%',
      height: frameHeight(),
      userInfo: {displayName: el.getAttribute('data-jitsi-name')},
      configOverwrite: {
        prejoinConfig: {enabled: false},
        prejoinPageEnabled: false,
        startWithAudioMuted: el.getAttribute('data-jitsi-audio-muted') === 'true',
        // A phone beside the laptop must not play the call back into the laptop's microphone.
        startSilent: silent,
        disableDeepLinking: true,
        disableInviteFunctions: true,
        readOnlyName: true,
        toolbarButtons: toolbar(el)
      }
    };
    waitingRoomOptions(el, options.configOverwrite);
    const jwt = el.getAttribute('data-jitsi-jwt');
    if (jwt) {
      options.jwt = jwt;
    }
    if (devices) {
      options.devices = devices;
    }
    try {
      state.api = new window.JitsiMeetExternalAPI(el.getAttribute('data-jitsi-domain'), options);
    } catch (err) {
      failToLoad(el, err);
      return;
    }
    wire(el, state);
    announce(el, state.api);
    trackOwnVideo(el, state.api);
  }

  // The waiting room (面试等待室): a candidate receives nobody's video (channelLastN 0) and has
  // no tile view; the assistant sees every candidate at once (tile view).
  function waitingRoomOptions(el, config) {
    const lastN = el.getAttribute('data-jitsi-last-n');
    if (lastN !== null && lastN !== '' && !isNaN(Number(lastN))) {
      config.channelLastN = Number(lastN);
      config.disableTileView = true;
    }
  }

  function waitingRoomJoined(el, state) {
    if (el.getAttribute('data-jitsi-tile-view') !== 'true') {
      return;
    }
    try {
      state.api.executeCommand('setTileView', true);
    } catch (err) { /* the call works without it */ }
  }

  // The call goes away with its container (an htmx swap) or with the page: tell the server,
  // so that staff do not see someone in a call they have left.
  function stop(el, reason) {
    const state = calls.get(el);
    if (!state) {
      return;
    }
    calls.delete(el);
    clearTimeout(state.recordingTimer);
    if (state.joined) {
      state.joined = false;
      report(el, 'videoConferenceLeft', {reason: reason}, true);
    }
    if (state.api && typeof state.api.dispose === 'function') {
      try {
        state.api.dispose();
      } catch (err) { /* already gone */ }
    }
  }

  function startAll(scope) {
    const found = [];
    if (scope.matches && scope.matches('.jitsi-call')) {
      found.push(scope);
    }
    if (scope.querySelectorAll) {
      found.push.apply(found, scope.querySelectorAll('.jitsi-call'));
    }
    found.forEach(function (el) { start(el); });
  }

  // Other scripts of a page (rest-room.js, room-guard.js) need the call's API object to listen
  // or moderate: it is handed to them in a bubbling `ir:jitsi-ready` event on the container,
  // detail {api, role, kind, room}, right after construction (before the join).
  function announce(el, api) {
    el.dispatchEvent(new CustomEvent('ir:jitsi-ready', {
      bubbles: true,
      detail: {
        api: api,
        role: el.getAttribute('data-jitsi-role'),
        kind: el.getAttribute('data-jitsi-kind'),
        room: el.getAttribute('data-jitsi-room')
      }
    }));
  }

  function init() {
    startAll(document);
    document.body.addEventListener('htmx:load', function (event) {
      startAll(event.target);
    });
    document.body.addEventListener('htmx:beforeCleanupElement', function (event) {
      if (calls.has(event.target)) {
        stop(event.target, 'replaced');
      }
    });
    document.body.addEventListener('ir:start-recording', onStartRecordingRequest);
    window.addEventListener('pagehide', function () {
      Array.from(calls.keys()).forEach(function (el) { stop(el, 'page closed'); });
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
