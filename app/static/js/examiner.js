/* examiner.js: the examiner console's own behaviour, next to staff.js. No inline script (CSP).
 *
 *   data-examiner-countdown="S"  counts down from S seconds (the server's figure at render; each
 *                                poll brings a fresh one). With data-warn-at / data-danger-at
 *                                it turns amber (countdown-warn) and red (countdown-danger) on
 *                                time, and writes the reminder into [data-examiner-reminder]
 *                                without waiting for the next poll; the poll then brings the
 *                                server's reminder and staff.js chimes (data-alert).
 *   data-score-sheet             a score form: [data-score-total] shows the sum of its
 *                                [data-score-input] fields while the examiner types, and
 *                                typed values survive a redraw of the sheet by a poll, and
 *                                a field whose autosave gave a reason (its aria-describedby
 *                                slot) is marked aria-invalid.
 *   data-console-workspace       the console's views: a [data-view-button="V"] shows the
 *                                [data-view-panel="V"] in the side column (examiner.css reads
 *                                data-view); a fresh page opens on the sheet.
 */
(function () {
  "use strict";

  var arrived = new WeakMap();

  function mmss(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var m = Math.floor(s / 60);
    var sec = s % 60;
    return (m < 10 ? "0" : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-examiner-countdown]").forEach(function (el) {
      if (!arrived.has(el)) arrived.set(el, now);
      var left = Number(el.getAttribute("data-examiner-countdown")) - (now - arrived.get(el)) / 1000;
      el.textContent = mmss(left);
      if (!el.hasAttribute("data-warn-at")) return;
      var danger = left <= Number(el.getAttribute("data-danger-at"));
      var warn = !danger && left <= Number(el.getAttribute("data-warn-at"));
      el.classList.toggle("countdown-danger", danger);
      el.classList.toggle("countdown-warn", warn);
      var reminder = el.parentNode && el.parentNode.querySelector("[data-examiner-reminder]");
      // The words come from the page (data-warn-text / data-danger-text), in the reader's language.
      var text = danger
        ? el.getAttribute("data-danger-text") || ""
        : warn
          ? el.getAttribute("data-warn-text") || ""
          : "";
      if (reminder && text && reminder.textContent !== text) {
        reminder.textContent = text;
        reminder.classList.remove("reminder-warn", "reminder-danger");
        reminder.classList.add(danger ? "reminder-danger" : "reminder-warn");
      }
    });
  }

  // --- live total of a score sheet ----------------------------------------------------------

  function total(form) {
    var sum = 0;
    var valid = true;
    form.querySelectorAll("[data-score-input]").forEach(function (input) {
      if (input.value === "") return;
      var value = Number(input.value);
      var max = Number(input.getAttribute("data-max"));
      if (!isFinite(value) || !input.checkValidity() || (isFinite(max) && value > max)) valid = false;
      else sum += value;
    });
    var out = form.querySelector("[data-score-total]");
    if (out) {
      // Tenths as integers: 0.1 + 0.2 must show 0.3, not 0.30000000000000004.
      out.textContent = (Math.round(sum * 10) / 10).toFixed(1) + (valid ? "" : " ?");
    }
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("[data-score-sheet]");
    if (!form) return;
    if (event.target.hasAttribute("data-score-input")) event.target.setAttribute("data-edited", "");
    total(form);
  });

  // --- nothing typed is lost when a poll redraws the sheet ----------------------------------
  // The sheet is redrawn when a colleague submits or the chief confirms, possibly between two
  // keystrokes or before the autosave of the last field has come back. What the examiner typed
  // is carried into the fresh copy (same field ids), so it is what the page shows and submits.

  var carried = {};
  var carriedErrors = {};

  function errorSlot(input) {
    var id = input.getAttribute("aria-describedby");
    return id ? document.getElementById(id) : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.querySelectorAll) return;
    target.querySelectorAll("[data-score-input][data-edited]").forEach(function (input) {
      if (!input.id) return;
      carried[input.id] = input.value;
      var slot = errorSlot(input);
      if (slot && slot.textContent) carriedErrors[input.id] = slot.textContent;
    });
  });

  // A field whose autosave came back with a reason (its error slot, filled out of band) is
  // marked invalid until a later autosave empties the slot.
  function markFields() {
    document.querySelectorAll("[data-score-input][aria-describedby]").forEach(function (input) {
      var slot = errorSlot(input);
      if (!slot) return;
      if (carriedErrors[input.id] && !slot.textContent) slot.textContent = carriedErrors[input.id];
      if (slot.textContent) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
    carriedErrors = {};
  }

  document.addEventListener("htmx:afterSettle", function () {
    var touched = [];
    Object.keys(carried).forEach(function (id) {
      var input = document.getElementById(id);
      if (!input || !input.hasAttribute("data-score-input")) return;
      if (input.value !== carried[id]) input.value = carried[id];
      input.setAttribute("data-edited", "");
      var form = input.closest("[data-score-sheet]");
      if (form && touched.indexOf(form) === -1) touched.push(form);
    });
    carried = {};
    touched.forEach(total);
    markFields();
  });

  // --- the console's views -------------------------------------------------------------------

  function showView(workspace, view) {
    var buttons = workspace.querySelectorAll("[data-view-button]");
    var known = Array.prototype.some.call(buttons, function (b) {
      return b.getAttribute("data-view-button") === view;
    });
    if (!known) return;
    workspace.setAttribute("data-view", view);
    buttons.forEach(function (button) {
      var selected = button.getAttribute("data-view-button") === view;
      button.setAttribute("aria-selected", selected ? "true" : "false");
      button.tabIndex = selected ? 0 : -1;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-view-button]");
    if (!button) return;
    var workspace = button.closest("[data-console-workspace]");
    if (!workspace) return;
    event.preventDefault(); // a link to its panel without the script; no jump with it
    showView(workspace, button.getAttribute("data-view-button"));
  });

  // Arrow keys move between the views, as in any tab list.
  document.addEventListener("keydown", function (event) {
    var button = event.target.closest && event.target.closest("[data-view-button]");
    if (!button || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var all = Array.prototype.slice.call(button.parentNode.querySelectorAll("[data-view-button]"));
    var next = all[(all.indexOf(button) + (event.key === "ArrowRight" ? 1 : all.length - 1)) % all.length];
    next.focus();
    next.click();
    event.preventDefault();
  });

  function start() {
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
