/* staff.js: shared behaviour of the staff consoles (assistant, examiner, HR overview).
 *
 * For the other console authors: everything here is driven by data attributes, so a template
 * opts in without writing script (the CSP forbids inline script anyway). Include it once:
 *   <script src="{{ url_for('static', filename='js/staff.js') }}" defer></script>
 *
 *   data-poll + data-etag="V"   on an htmx-polled element (see _console_macros.html `poll`):
 *                               its GETs carry If-None-Match: "V"; a 304 answer swaps nothing.
 *   data-elapsed="S"            text counts UP from S seconds (m:ss / h:mm:ss), re-based
 *                               whenever the server sends a fresh fragment.
 *   data-countdown-simple="S"   text counts DOWN from S seconds to 00:00.
 *   data-alert="KEY" data-alert-value="N" [data-alert-count="C"] [data-alert-label="求助"]
 *                               when N grows for KEY (e.g. the newest help request id), a chime
 *                               plays and the element gets the class "alerting" until clicked;
 *                               C (> 0) is shown as "(C)" in the tab title, so a console in a
 *                               background tab still signals waiting work.
 *
 *   data-confirm="Q"            on a plain <form>: asks Q before submitting (no inline script).
 *   data-busy="T"               on a plain <form>: once submitted, T shows in its
 *                               [data-busy-status] and its submit buttons are disabled.
 *
 * Answers the server sends with a message (409 refused, 422 invalid) are swapped like a 200:
 * htmx would otherwise drop them and the person would not learn why nothing happened.
 */
(function () {
  "use strict";

  // --- plain forms that ask first ------------------------------------------------------------

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // A slow plain form (an import of thousands): say it is working and keep it from being sent
  // twice. Runs after the question above, and only for a submission that goes ahead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var busy = form.getAttribute && form.getAttribute("data-busy");
    if (!busy || event.defaultPrevented) return;
    var status = form.querySelector("[data-busy-status]");
    if (status) status.textContent = busy;
    window.setTimeout(function () {
      // After the browser has taken the form's data: a disabled button would not be sent.
      form.querySelectorAll("[type=submit]").forEach(function (button) { button.disabled = true; });
    }, 0);
  });

  // --- polls: If-None-Match and 304 ---------------------------------------------------------

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (event.detail.verb !== "get" || !elt || !elt.hasAttribute("data-poll")) return;
    var etag = elt.getAttribute("data-etag");
    if (etag) event.detail.headers["If-None-Match"] = '"' + etag + '"';
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 304) {
      event.detail.shouldSwap = false;
      event.detail.isError = false;
    } else if (isPoll(event.detail.requestConfig) && typingInside(event.detail.target)) {
      // Never wipe what someone is typing: the next poll swaps once they leave the field
      // (their copy's data-etag is still the old one, so the server answers in full).
      event.detail.shouldSwap = false;
    } else if ((status === 409 || status === 422) && event.detail.serverResponse) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function isPoll(config) {
    return !!(config && config.verb === "get" && config.elt && config.elt.hasAttribute("data-poll"));
  }

  function typingInside(target) {
    var active = document.activeElement;
    if (!target || !active || !target.contains(active)) return false;
    var tag = active.tagName;
    return (tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT") && !!active.value;
  }

  // --- clocks -------------------------------------------------------------------------------

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var mm = (m < 10 ? "0" : "") + m;
    var ss = (sec < 10 ? "0" : "") + sec;
    return h > 0 ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // When each clock element arrived; a swapped-in element is new, so it starts afresh.
  var arrived = new WeakMap();

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-elapsed], [data-countdown-simple]").forEach(function (el) {
      if (!arrived.has(el)) arrived.set(el, now);
      var passed = (now - arrived.get(el)) / 1000;
      if (el.hasAttribute("data-elapsed")) {
        el.textContent = clock(Number(el.getAttribute("data-elapsed")) + passed);
      } else {
        el.textContent = clock(Number(el.getAttribute("data-countdown-simple")) - passed);
      }
    });
  }

  // --- alerts: chime, highlight, tab title ----------------------------------------------------

  var seen = {}; // KEY -> highest value seen so far
  var audio = null;

  // Browsers allow sound only after the person interacted with the page: prepare it then.
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    audio = new (window.AudioContext || window.webkitAudioContext)();
  }
  document.addEventListener("click", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  function chime() {
    if (!audio) return;
    var start = audio.currentTime;
    [880, 1320].forEach(function (frequency, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, start + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + i * 0.18);
      osc.stop(start + i * 0.18 + 0.32);
    });
  }

  var baseTitle = document.title;

  function updateTitle() {
    var total = 0;
    document.querySelectorAll("[data-alert-count]").forEach(function (el) {
      total += Number(el.getAttribute("data-alert-count")) || 0;
    });
    document.title = (total > 0 ? "(" + total + ") " : "") + baseTitle;
  }

  var pending = {}; // KEY -> true while the growth has not been acknowledged by a click

  function checkAlerts() {
    var alerted = false;
    document.querySelectorAll("[data-alert]").forEach(function (el) {
      var key = el.getAttribute("data-alert");
      var value = Number(el.getAttribute("data-alert-value")) || 0;
      if (key in seen && value > seen[key]) {
        pending[key] = true;
        alerted = true;
      }
      if (!(key in seen) || value > seen[key]) seen[key] = value;
      // A swapped-in element is new: it keeps signalling until someone clicks it.
      el.classList.toggle("alerting", !!pending[key]);
    });
    if (alerted) chime();
    updateTitle();
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-alert]");
    if (!el) return;
    pending[el.getAttribute("data-alert")] = false;
    el.classList.remove("alerting");
  });

  document.addEventListener("htmx:afterSettle", checkAlerts);

  function start() {
    checkAlerts();
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
