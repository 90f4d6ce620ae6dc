/* candidate.js: the candidate's pages (no inline script: the CSP forbids it).
 *
 * Everything is driven by markup the server renders, so the pages work as plain forms and the
 * script only adds what a browser alone can do:
 *
 *   #status (htmx-polled)       If-None-Match from its data-etag; a 304 swaps nothing; the
 *                               X-Server-Now-Ms header of every poll re-syncs the clocks.
 *                               The next poll (`ir:poll`) fires after the X-Poll-Interval of
 *                               the last answer (seconds), else the fragment's
 *                               data-poll-seconds, else 2 s (app/day/poll_interval.py).
 *   [data-queue-ahead]          the waiting page's "N ahead of you": the X-Queue-Ahead
 *                               header of every poll, 304 included (app/day/poll.py).
 *   #candidate-context pulse    data-pulse-url, data-wake-tag, data-pulse-seconds: the panel's
 *                               pulse, read every few seconds; a broadcast or a wake for this
 *                               candidate polls at once (app/day/pulse.py). Without a pulse
 *                               (two failed reads) the page polls every 2 s.
 *   [data-countdown]            counts down to data-until-ms (server epoch ms) using only the
 *                               browser's elapsed time since the last server timestamp (never
 *                               its wall clock); data-seconds-left is the fallback. Classes
 *                               countdown-warn (<= data-warn-at s) and countdown-danger
 *                               (<= data-danger-at s); at zero it triggers `ir:resync`.
 *   [data-incoming-call]        a ringing call: beeps (WebAudio, no file), badges the tab title,
 *                               focuses the 接受 button.
 *   #candidate-context          data-visibility-url + data-csrf + data-away-threshold-ms:
 *                               疑似切屏 beacons (time away, sent when long enough).
 *   [data-device-check]         camera/mic check: preview, level meter, device pickers; the
 *                               chosen ids are kept in localStorage as `ir.cameraId` and
 *                               `ir.micId`, which jitsi-embed.js reads to pick the call's devices.
 *   [data-browser-warning]      shown when the browser is not desktop Chrome.
 *   [data-action=test-sound]    plays the call tone (also unlocks audio for later calls).
 */
(function () {
  "use strict";

  var STORAGE_CAMERA = "ir.cameraId";
  var STORAGE_MIC = "ir.micId";

  // --- server time ------------------------------------------------------------------------
  // serverNow() = the last server timestamp + the browser's monotonic time elapsed since.
  // The browser's wall clock is never read, so a wrong PC clock cannot shorten an interview.

  var clock = { serverMs: null, at: 0 };

  function syncClock(serverMs) {
    var value = Number(serverMs);
    // The same header seen twice (beforeSwap, then afterRequest) keeps its first arrival time.
    if (!isFinite(value) || value <= 0 || value === clock.serverMs) return;
    clock.serverMs = value;
    clock.at = performance.now();
  }

  function serverNow() {
    if (clock.serverMs === null) return null;
    return clock.serverMs + (performance.now() - clock.at);
  }

  function syncFromPage(root) {
    var el = (root || document).querySelector("[data-server-now-ms]");
    if (el) syncClock(el.getAttribute("data-server-now-ms"));
  }

  // --- countdowns -------------------------------------------------------------------------

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(seconds, style) {
    if (style === "seconds") return String(seconds);
    var m = Math.floor(seconds / 60);
    return pad(m) + ":" + pad(seconds % 60);
  }

  function prepareCountdown(el) {
    if (el.hasAttribute("data-prepared")) return;
    el.setAttribute("data-prepared", "");
    // A fallback when there is no server timestamp: seconds left at render, counted from now.
    el._irStart = performance.now();
    el._irSecondsLeft = Number(el.getAttribute("data-seconds-left")) || 0;
  }

  function secondsLeft(el) {
    var until = Number(el.getAttribute("data-until-ms"));
    var now = serverNow();
    var ms;
    if (until && now !== null) {
      ms = until - now;
    } else {
      ms = el._irSecondsLeft * 1000 - (performance.now() - el._irStart);
    }
    return Math.max(0, Math.ceil(ms / 1000));
  }

  function tick() {
    var zeroed = false;
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      prepareCountdown(el);
      var left = secondsLeft(el);
      var text = format(left, el.getAttribute("data-format"));
      if (el.textContent !== text) el.textContent = text;
      // The thresholds come from the server (app/day/clock.py), never from here.
      if (el.hasAttribute("data-warn-at") && el.hasAttribute("data-danger-at")) {
        var warnAt = Number(el.getAttribute("data-warn-at"));
        var dangerAt = Number(el.getAttribute("data-danger-at"));
        el.classList.toggle("countdown-danger", left <= dangerAt);
        el.classList.toggle("countdown-warn", left > dangerAt && left <= warnAt);
        announceThreshold(el, left, warnAt, dangerAt);
      }
      if (left === 0 && !el.hasAttribute("data-zeroed")) {
        el.setAttribute("data-zeroed", "");
        if (el.getAttribute("data-on-zero") === "resync") zeroed = true;
      }
    });
    if (zeroed) resync();
  }

  // Screen readers hear the 3- and 1-minute marks once, not every second (the timer itself is
  // aria-live="off").
  function announceThreshold(el, left, warnAt, dangerAt) {
    var mark = left <= dangerAt ? "danger" : left <= warnAt ? "warn" : "";
    if (!mark || el.getAttribute("data-announced") === mark) return;
    el.setAttribute("data-announced", mark);
    var live = document.getElementById("countdown-announcer");
    if (!live) return;
    live.textContent = mark === "danger" ? "作答时间剩余不足1分钟。" : "作答时间剩余不足3分钟。";
  }

  function statusEl() { return document.getElementById("status"); }

  function resync() {
    var el = statusEl();
    if (el && window.htmx && el.hasAttribute("hx-get")) window.htmx.trigger(el, "ir:resync");
  }

  // --- polls: ETag, 304, clock, connection ------------------------------------------------

  function isPoll(elt) { return !!elt && elt.id === "status"; }

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (event.detail.verb !== "get" || !isPoll(elt)) return;
    var etag = elt.getAttribute("data-etag");
    if (etag) event.detail.headers["If-None-Match"] = '"' + etag + '"';
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr.status;
    var serverNowMs = xhr.getResponseHeader("X-Server-Now-Ms");
    if (serverNowMs) syncClock(serverNowMs);
    if (status === 304) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
    } else if (isPoll(event.detail.requestConfig && event.detail.requestConfig.elt) && typingInside(event.detail.target)) {
      event.detail.shouldSwap = false;
    } else if ((status === 409 || status === 422 || status === 429) && event.detail.serverResponse &&
               !isPoll(event.detail.requestConfig && event.detail.requestConfig.elt)) {
      // A refused action says why in Chinese; htmx would drop a 4xx body otherwise.
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function typingInside(target) {
    var active = document.activeElement;
    if (!target || !active || !target.contains(active)) return false;
    var tag = active.tagName;
    return (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") && !!active.value;
  }

  var failures = 0;

  function connectionBanner() {
    var banner = document.getElementById("connection-lost");
    if (banner) return banner;
    banner = document.createElement("div");
    banner.id = "connection-lost";
    banner.className = "connection-lost";
    banner.setAttribute("role", "alert");
    banner.hidden = true;
    banner.textContent = "网络连接中断，正在重新连接……请勿关闭本页面；如长时间无法恢复，可连接手机热点。";
    document.body.insertBefore(banner, document.body.firstChild);
    return banner;
  }

  function pollFailed() {
    failures += 1;
    // One lost poll is noise; two in a row (about 4 s) is worth telling the candidate.
    if (failures >= 2) connectionBanner().hidden = false;
  }

  function pollSucceeded() {
    failures = 0;
    var banner = document.getElementById("connection-lost");
    if (banner) banner.hidden = true;
  }

  // --- when to poll next: the server says (htmx's `every` is fixed when the markup is parsed) --

  var FALLBACK_SECONDS = 2;
  var pollSeconds = null; // the last answer's X-Poll-Interval; a 304 without it keeps this
  var pollTimer = null;

  function secondsFrom(value) {
    var n = parseInt(value, 10);
    // A bad value never stops the polls nor floods the server.
    return n >= 1 && n <= 300 ? n : null;
  }

  function nextPollSeconds() {
    var el = statusEl();
    var seconds = pollSeconds || (el && secondsFrom(el.getAttribute("data-poll-seconds"))) || FALLBACK_SECONDS;
    // A slow interval counts on the pulse to wake the page: without one, poll fast.
    return pulse.broken() ? Math.min(seconds, FALLBACK_SECONDS) : seconds;
  }

  function schedulePoll(seconds) {
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(firePoll, seconds * 1000);
  }

  // A poll already on its way may have left before the change: poll again once it answered.
  var pollInFlight = false;
  var wokenInFlight = false;
  var pollsSent = 0;

  function firePoll() {
    var el = statusEl();
    if (!el || !window.htmx || !el.hasAttribute("hx-get")) return; // a final page: done
    if (pollInFlight) {
      wokenInFlight = true; // its answer schedules the next at once
      return;
    }
    var sent = pollsSent;
    window.htmx.trigger(el, "ir:poll");
    if (pollsSent === sent) {
      // htmx dropped it (the element still busy with the answer just swapped in): soon again.
      pollTimer = window.setTimeout(firePoll, 300);
      return;
    }
    // Should the request never answer (no afterRequest), keep the chain alive anyway.
    pollTimer = window.setTimeout(function () {
      if (pollsSent === sent + 1 && pollInFlight) {
        pollInFlight = false;
        firePoll();
      }
    }, (nextPollSeconds() + FALLBACK_SECONDS) * 1000);
  }

  function pollNow() {
    if (pollInFlight) wokenInFlight = true;
    else schedulePoll(0);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isPollRequest(event.detail)) return;
    pollInFlight = true;
    pollsSent += 1;
  });

  // --- the pulse: the panel's shared "poll now" (app/day/pulse.py) --------------------------
  // Every few seconds the page reads its panel's pulse (the same bytes for every page of the
  // panel, kept a second by nginx) and polls at once when the exam's or panel's counters moved
  // (a broadcast) or a wake carries this candidate's tag with a time newer than the last acted
  // on (her row changed: a call, a release, a spot check). The first answer always polls once:
  // whatever happened between the page's render and now is then seen.

  var pulse = {
    version: null,
    actedMs: 0,
    failures: 0,
    started: false,
    broken: function () {
      // Two failed reads in a row (Redis away answers 503): the page must not rely on it.
      return pulse.failures >= 2 && !!pulseUrl();
    }
  };

  function pulseUrl() {
    var ctx = document.getElementById("candidate-context");
    return ctx && ctx.getAttribute("data-pulse-url");
  }

  function pulseSeconds() {
    var ctx = document.getElementById("candidate-context");
    return (ctx && secondsFrom(ctx.getAttribute("data-pulse-seconds"))) || FALLBACK_SECONDS;
  }

  function wokenBy(answer) {
    var ctx = document.getElementById("candidate-context");
    var tag = ctx && ctx.getAttribute("data-wake-tag");
    var woken = !pulse.started || answer.v !== pulse.version;
    (answer.w || []).forEach(function (wake) {
      var dot = wake.lastIndexOf(".");
      var at = parseInt(wake.slice(dot + 1), 10);
      if (wake.slice(0, dot) === tag && at > pulse.actedMs) {
        woken = true;
        pulse.actedMs = at;
      }
    });
    pulse.started = true;
    pulse.version = answer.v;
    return woken;
  }

  function readPulse() {
    var url = pulseUrl();
    var el = statusEl();
    if (!url || !window.fetch || !el || !el.hasAttribute("hx-get")) return; // final: done
    // No cookie: the answer is the panel's, never the candidate's (and nginx may share it).
    window.fetch(url, { credentials: "omit" }).then(function (response) {
      if (!response.ok) throw new Error("pulse " + response.status);
      return response.json();
    }).then(function (answer) {
      var wasBroken = pulse.broken();
      pulse.failures = 0;
      if (wokenBy(answer)) pollNow();
      else if (wasBroken) schedulePoll(nextPollSeconds());
    }).catch(function () {
      pulse.failures += 1;
      if (pulse.broken()) schedulePoll(Math.min(nextPollSeconds(), FALLBACK_SECONDS));
    }).then(function () {
      window.setTimeout(readPulse, pulseSeconds() * 1000);
    });
  }

  // After an outerHTML swap htmx announces the request on #status's parent (the old element has
  // left the page): the request's own element says it was the poll.
  function isPollRequest(detail) {
    return isPoll(detail.elt) || isPoll(detail.requestConfig && detail.requestConfig.elt);
  }

  // "您前面还有 N 位考生": the poll's ETag leaves N out (app/day/poll.py: a call from the front
  // moves it for every page behind), so every answer, 304 included, says it in X-Queue-Ahead.
  function showQueueAhead(xhr) {
    var ahead = xhr.getResponseHeader("X-Queue-Ahead");
    if (!ahead || !/^[0-9]+$/.test(ahead)) return;
    document.querySelectorAll("[data-queue-ahead]").forEach(function (el) {
      if (el.textContent !== ahead) el.textContent = ahead;
    });
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isPollRequest(event.detail)) return;
    var xhr = event.detail.xhr;
    var serverNowMs = xhr && xhr.getResponseHeader("X-Server-Now-Ms");
    if (serverNowMs) syncClock(serverNowMs);
    var answered = xhr && xhr.status > 0 && xhr.status < 500;
    var told = answered ? secondsFrom(xhr.getResponseHeader("X-Poll-Interval")) : null;
    if (told) pollSeconds = told;
    else if (xhr && xhr.status === 200) pollSeconds = null; // the new fragment's own value
    if (answered) showQueueAhead(xhr);
    pollInFlight = false;
    schedulePoll(wokenInFlight ? 0 : nextPollSeconds());
    wokenInFlight = false;
    if (!xhr || xhr.status === 0 || xhr.status >= 500) pollFailed();
    else pollSucceeded();
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (isPoll(event.detail.elt)) { pollInFlight = false; pollFailed(); }
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (isPoll(event.detail.elt)) { pollInFlight = false; pollFailed(); }
  });

  // The clock is re-synced from the poll's header only: a fragment's data-server-now-ms may be
  // older than the last 304 (and other swaps, such as the help form, carry no time at all).
  document.addEventListener("htmx:afterSwap", function () { onContent(); });

  // --- incoming call: tone, title badge, focus -----------------------------------------------

  var audio = null;
  var ringTimer = null;
  var baseTitle = document.title;

  function audioContext() {
    var Ctor = window.AudioContext || window.webkitAudioContext;
    if (!Ctor) return null;
    if (!audio) audio = new Ctor();
    if (audio.state === "suspended") audio.resume().catch(function () {});
    return audio;
  }

  function beep() {
    var ctx = audioContext();
    if (!ctx) return;
    [0, 0.35].forEach(function (offset) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      var start = ctx.currentTime + offset;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.3);
    });
  }

  // Chrome keeps an AudioContext suspended until the page gets a gesture: any click or key
  // unlocks it, so that a call arriving later can ring.
  ["click", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () { audioContext(); }, { once: true, capture: true });
  });

  function updateRinging() {
    var call = document.querySelector("[data-incoming-call]");
    if (call && !ringTimer) {
      beep();
      ringTimer = window.setInterval(beep, 2000);
      var button = call.querySelector("[data-focus-on-swap]") || call.querySelector("button");
      if (button) button.focus();
    }
    if (call) {
      var label = call.getAttribute("data-title") || "来电";
      document.title = (Math.floor(performance.now() / 1000) % 2 ? "【来电】" : "【　　】") + label + " · " + baseTitle;
    } else if (ringTimer) {
      window.clearInterval(ringTimer);
      ringTimer = null;
      document.title = baseTitle;
    }
  }

  // --- 疑似切屏: time away from the page, reported when it is long enough ----------------------
  //
  // A switch counts only when the tab was hidden or the window blurred for longer than the
  // server's threshold (data-away-threshold-ms, app/day/signals.py), and it is reported with
  // how long (`ms`) when the candidate comes back, or on pagehide if still away by then. What
  // never counts:
  //  - the app's own navigations: a form post, a reload, an HX-Redirect hide the page while it
  //    unloads (pagehide comes first, then visibilitychange "hidden"). Once the page is leaving
  //    nothing starts an absence, so those hides are ignored (they were every false entry).
  //  - focus moving into the embedded call: the window blurs, but document.activeElement is then
  //    the Jitsi IFRAME: the candidate is still on the page.
  //  - the camera/microphone permission prompt: Chrome's bubble takes the focus (a blur, never
  //    a hidden tab) while getUserMedia is pending (the device check). The call's iframe asks no
  //    more: Chrome keys its permission to this page's origin, granted in the device check.

  var away = { kind: null, since: 0 };
  var leaving = false;
  var leavingTimer = null;
  var mediaPending = 0;

  function awayThresholdMs() {
    var context = document.getElementById("candidate-context");
    var value = context ? Number(context.getAttribute("data-away-threshold-ms")) : NaN;
    return isFinite(value) && value > 0 ? value : 2000;
  }

  function report(kind, ms) {
    var context = document.getElementById("candidate-context");
    if (!context) return;
    var url = context.getAttribute("data-visibility-url");
    if (!url) return;
    var body = new FormData();
    body.append("kind", kind);
    body.append("ms", String(ms));
    body.append("csrf_token", context.getAttribute("data-csrf") || "");
    // sendBeacon survives the page going away and needs no headers (hence the form field).
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true }).catch(function () {});
  }

  function startAway(kind) {
    if (away.kind || leaving) return;
    // The permission prompt blurs the window; it never hides the tab, so a hidden page counts
    // even while a camera request is under way (the call asks for the camera as it starts).
    if (kind === "blur" && mediaPending > 0) return;
    away = { kind: kind, since: performance.now() };
  }

  // Back on the page (or leaving it while away): report the absence if it was long enough.
  function endAway() {
    if (!away.kind) return;
    var ms = Math.round(performance.now() - away.since);
    var kind = away.kind;
    away = { kind: null, since: 0 };
    if (ms > awayThresholdMs()) report(kind, ms);
  }

  // Counts the camera/microphone requests under way, whoever on this page makes them.
  (function watchMediaRequests() {
    var devices = navigator.mediaDevices;
    if (!devices || !devices.getUserMedia) return;
    var original = devices.getUserMedia.bind(devices);
    devices.getUserMedia = function (constraints) {
      mediaPending += 1;
      var done = function () { mediaPending = Math.max(0, mediaPending - 1); };
      return original(constraints).then(function (stream) { done(); return stream; },
        function (err) { done(); throw err; });
    };
  })();

  window.addEventListener("beforeunload", function () {
    leaving = true;
    // A download link or a cancelled navigation fires beforeunload and the page stays: watch
    // again soon. A real navigation reaches pagehide well within this.
    window.clearTimeout(leavingTimer);
    leavingTimer = window.setTimeout(function () { leaving = false; }, 3000);
  });

  window.addEventListener("pagehide", function () {
    window.clearTimeout(leavingTimer);
    if (away.kind) endAway(); // navigated away while away (say, a redirect): the time so far
    leaving = true;
  });

  // Back from the back/forward cache: the same page, watching again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) leaving = false;
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      startAway("hidden");
    } else {
      endAway();
      resync(); // back on the page: re-sync the countdown with the server at once
    }
  });

  // A page that starts hidden (it loaded in a tab the candidate had already left) is away from
  // now: no visibilitychange will say so until the candidate comes back.
  if (document.visibilityState === "hidden") startAway("hidden");

  window.addEventListener("blur", function () {
    // Let the focus land first: in the embedded call it is the IFRAME, which is not leaving.
    window.setTimeout(function () {
      var active = document.activeElement;
      if (active && active.tagName === "IFRAME") return;
      if (document.visibilityState === "hidden") return; // counted as hidden
      startAway("blur");
    }, 0);
  });

  window.addEventListener("focus", function () {
    if (away.kind === "blur") endAway();
    resync();
  });

  // --- browser check -------------------------------------------------------------------------

  function isDesktopChrome() {
    var data = navigator.userAgentData;
    if (data && data.brands) {
      var chrome = data.brands.some(function (b) { return b.brand === "Google Chrome"; });
      return chrome && !data.mobile;
    }
    var ua = navigator.userAgent;
    return /Chrome\/\d+/.test(ua) && !/Edg\/|OPR\/|SamsungBrowser|Mobile|MicroMessenger|QQBrowser|UCBrowser|360SE|Firefox/.test(ua);
  }

  function browserCheck() {
    if (isDesktopChrome()) return;
    document.querySelectorAll("[data-browser-warning]").forEach(function (el) { el.hidden = false; });
  }

  // --- device check ----------------------------------------------------------------------------

  var media = { stream: null, analyser: null, frame: null, source: null };

  function store(key, value) {
    try {
      if (value) window.localStorage.setItem(key, value);
      else window.localStorage.removeItem(key);
    } catch (err) { /* private mode: the call falls back to the default devices */ }
  }

  function stored(key) {
    try { return window.localStorage.getItem(key) || ""; } catch (err) { return ""; }
  }

  function stopMedia() {
    if (media.frame) window.cancelAnimationFrame(media.frame);
    media.frame = null;
    if (media.source) media.source.disconnect();
    media.source = null;
    if (media.stream) media.stream.getTracks().forEach(function (t) { t.stop(); });
    media.stream = null;
  }

  function showHelp(box, which) {
    box.querySelectorAll("[data-device-help]").forEach(function (el) {
      el.hidden = el.getAttribute("data-device-help") !== which;
    });
  }

  function setStatus(box, text, ok) {
    var el = box.querySelector("[data-device-status]");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("ok", !!ok);
  }

  function errorKind(err) {
    var name = err && err.name;
    if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") return "not-allowed";
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "not-readable";
    if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return "not-found";
    return "other";
  }

  function fillSelect(select, devices, kind, chosen, fallback) {
    if (!select) return;
    var current = chosen || select.value;
    while (select.options.length) select.remove(0);
    var list = devices.filter(function (d) { return d.kind === kind; });
    if (!list.length) select.add(new Option(fallback, ""));
    list.forEach(function (d, i) {
      select.add(new Option(d.label || (fallback + " " + (i + 1)), d.deviceId));
    });
    if (current && list.some(function (d) { return d.deviceId === current; })) select.value = current;
  }

  function meter(box, stream) {
    var level = box.querySelector("[data-mic-level]");
    var ctx = audioContext();
    if (!level || !ctx || !stream.getAudioTracks().length) return;
    media.source = ctx.createMediaStreamSource(stream);
    media.analyser = ctx.createAnalyser();
    media.analyser.fftSize = 512;
    media.source.connect(media.analyser);
    var data = new Uint8Array(media.analyser.fftSize);
    var draw = function () {
      media.analyser.getByteTimeDomainData(data);
      var sum = 0;
      for (var i = 0; i < data.length; i++) {
        var v = (data[i] - 128) / 128;
        sum += v * v;
      }
      var rms = Math.sqrt(sum / data.length);
      level.value = Math.min(1, rms * 4);
      media.frame = window.requestAnimationFrame(draw);
    };
    draw();
  }

  function startCheck(box) {
    stopMedia();
    showHelp(box, null);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showHelp(box, "insecure");
      setStatus(box, "无法使用摄像头和麦克风。", false);
      return;
    }
    var cameraSelect = box.querySelector("[data-camera-select]");
    var micSelect = box.querySelector("[data-mic-select]");
    var cameraId = (cameraSelect && cameraSelect.value) || stored(STORAGE_CAMERA);
    var micId = (micSelect && micSelect.value) || stored(STORAGE_MIC);
    var constraints = {
      video: cameraId ? { deviceId: { exact: cameraId } } : true,
      audio: micId ? { deviceId: { exact: micId } } : true
    };
    setStatus(box, "正在请求摄像头和麦克风权限，请在浏览器弹出的提示中点击“允许”。", false);
    navigator.mediaDevices.getUserMedia(constraints).catch(function (err) {
      // A stored device that is gone (unplugged): try the defaults before giving up.
      if ((cameraId || micId) && errorKind(err) === "not-found") {
        store(STORAGE_CAMERA, "");
        store(STORAGE_MIC, "");
        return navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      }
      throw err;
    }).then(function (stream) {
      media.stream = stream;
      var video = box.querySelector("[data-preview]");
      if (video) {
        video.srcObject = stream;
        var playing = video.play();
        if (playing && playing.catch) playing.catch(function () {});
      }
      var videoTrack = stream.getVideoTracks()[0];
      var audioTrack = stream.getAudioTracks()[0];
      var usedCamera = videoTrack && videoTrack.getSettings ? videoTrack.getSettings().deviceId : "";
      var usedMic = audioTrack && audioTrack.getSettings ? audioTrack.getSettings().deviceId : "";
      store(STORAGE_CAMERA, usedCamera);
      store(STORAGE_MIC, usedMic);
      meter(box, stream);
      setStatus(box, "摄像头和麦克风工作正常：请确认能看到本人图像，说话时音量条跳动。", true);
      return navigator.mediaDevices.enumerateDevices().then(function (devices) {
        fillSelect(cameraSelect, devices, "videoinput", usedCamera, "摄像头");
        fillSelect(micSelect, devices, "audioinput", usedMic, "麦克风");
      });
    }).catch(function (err) {
      var kind = errorKind(err);
      showHelp(box, kind);
      var detail = box.querySelector("[data-device-error]");
      if (detail) detail.textContent = (err && (err.name || err.message)) || "未知错误";
      setStatus(box, "设备检测未通过，请按下方提示处理。", false);
    });
  }

  function setupDeviceCheck() {
    var box = document.querySelector("[data-device-check]");
    if (!box || box.hasAttribute("data-started")) return;
    box.setAttribute("data-started", "");
    ["[data-camera-select]", "[data-mic-select]"].forEach(function (sel) {
      var select = box.querySelector(sel);
      if (!select) return;
      select.addEventListener("change", function () {
        store(sel === "[data-camera-select]" ? STORAGE_CAMERA : STORAGE_MIC, select.value);
        startCheck(box);
      });
    });
    startCheck(box);
  }

  window.addEventListener("pagehide", stopMedia);

  // --- buttons and the code field ------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-action]");
    if (!target) return;
    var action = target.getAttribute("data-action");
    if (action === "test-sound") beep();
    else if (action === "reload") window.location.reload();
    else if (action === "retest") {
      var box = target.closest("[data-device-check]");
      if (box) startCheck(box);
    }
  });

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el && el.id === "code" && el.classList.contains("code-input")) {
      var digits = el.value.replace(/\D+/g, "").slice(0, 6);
      if (digits !== el.value) el.value = digits;
    }
  });

  // --- start -----------------------------------------------------------------------------------

  function onContent() {
    updateRinging();
    tick();
  }

  function start() {
    baseTitle = document.title;
    if (!document.getElementById("countdown-announcer")) {
      var live = document.createElement("p");
      live.id = "countdown-announcer";
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "assertive");
      document.body.appendChild(live);
    }
    syncFromPage(document);
    browserCheck();
    setupDeviceCheck();
    onContent();
    schedulePoll(nextPollSeconds());
    if (pulseUrl()) window.setTimeout(readPulse, pulseSeconds() * 1000);
    window.setInterval(function () { tick(); updateRinging(); }, 250);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
