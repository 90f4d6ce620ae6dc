/*
 * Interview Room: the staff page in the rest-room call says it is there (issue 16, 休息室全程录制).
 *
 * The assistant's console joins the rest-room call by itself as soon as a candidate rests
 * (assistant/_rest_call.html polls for it) and jitsi-embed.js records from the join. This file
 * sends the heartbeat that tells every staff page of the panel the room is watched
 * (app/day/rest_cover.py): from videoConferenceJoined, every data-rest-beat-seconds, a POST to
 * data-rest-beat; on leaving the call, on the call being swapped away and on closing the page,
 * one POST to data-rest-leave. No beat for BEAT_TTL_SECONDS and the consoles say 休息室未录制.
 *
 * Include it in the page head (defer), before jitsi-embed.js runs: it learns each call's API
 * from jitsi-embed.js's `ir:jitsi-ready` event. Plain ES2017, no globals, no inline script.
 */
(function () {
  'use strict';

  const beats = new Map(); // the call's container element -> {timer, box}

  function csrfToken() {
    try {
      const headers = JSON.parse(document.body.getAttribute('hx-headers') || '{}');
      return headers['X-CSRFToken'] || '';
    } catch (err) {
      return '';
    }
  }

  function post(url, keepalive) {
    if (!url || typeof fetch !== 'function') {
      return;
    }
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      keepalive: Boolean(keepalive),
      headers: {'X-CSRFToken': csrfToken()}
    }).catch(function () { /* the next beat tries again; the consoles warn meanwhile */ });
  }

  function start(el, box) {
    if (beats.has(el)) {
      return;
    }
    const seconds = Number(box.getAttribute('data-rest-beat-seconds')) || 10;
    const url = box.getAttribute('data-rest-beat');
    post(url);
    beats.set(el, {box: box, timer: setInterval(function () { post(url); }, seconds * 1000)});
  }

  function stop(el, keepalive) {
    const beat = beats.get(el);
    if (!beat) {
      return;
    }
    beats.delete(el);
    clearInterval(beat.timer);
    post(beat.box.getAttribute('data-rest-leave'), keepalive);
  }

  document.addEventListener('ir:jitsi-ready', function (event) {
    const el = event.target;
    const detail = event.detail || {};
    const box = el.closest ? el.closest('[data-rest-beat]') : null;
    if (!box || detail.kind !== 'rest' || !detail.api) {
      return;
    }
    detail.api.addListener('videoConferenceJoined', function () { start(el, box); });
    detail.api.addListener('videoConferenceLeft', function () { stop(el, false); });
  });

  document.addEventListener('htmx:beforeCleanupElement', function (event) {
    Array.from(beats.keys()).forEach(function (el) {
      if (event.target === el || (event.target.contains && event.target.contains(el))) {
        stop(el, true);
      }
    });
  });

  window.addEventListener('pagehide', function () {
    Array.from(beats.keys()).forEach(function (el) { stop(el, true); });
  });
}());
