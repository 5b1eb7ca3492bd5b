/* The dosing chart (templates/sessions/dosing_chart.html): countdowns and "now" times.
 *
 * Times come from the server in the clinic's time zone (ISO with its offset). The browser's clock
 * may be off, or in another zone: the page's data-server-now fixes the offset once, and every
 * countdown and default time follows the server's clock from there. Without JavaScript the page
 * prints the times themselves, so nothing here is needed to chart safely. */
(function () {
  "use strict";

  var root = document.querySelector("[data-dosing-chart]");
  if (!root) {
    return;
  }
  // R22 and the dosing day: while this chart is open and visible and its session under way, a
  // ping every minute keeps the therapist signed in; the server answers 409 once the chart is
  // closed (discharge, deferral, long past its end) and the ping stops.
  var keepalive = root.dataset.keepaliveUrl;
  if (keepalive && window.fetch) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    var every = (parseInt(root.dataset.keepaliveSeconds, 10) || 60) * 1000;
    var pinger = window.setInterval(function () {
      if (document.visibilityState !== "visible") {
        return;
      }
      window.fetch(keepalive, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", "X-KAP-Keepalive": "1" },
      }).then(function (response) {
        if (response.status !== 204) {
          window.clearInterval(pinger);
        }
      }).catch(function () {});
    }, every);
  }
  var serverNow = Date.parse(root.dataset.serverNow || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
  // The clinic's UTC offset in minutes, from the ISO string ("...-05:00").
  var match = /([+-])(\d{2}):(\d{2})$/.exec(root.dataset.serverNow || "");
  var offset = match ? (match[1] === "-" ? -1 : 1) * (parseInt(match[2], 10) * 60 + parseInt(match[3], 10)) : null;

  function now() {
    return Date.now() + skew;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function clock(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    return (hours ? hours + ":" + pad(minutes) : minutes) + ":" + pad(seconds);
  }

  // Countdowns: [data-countdown data-until=ISO] with a clock, a "running" and a "done" text.
  var timers = Array.prototype.slice.call(root.querySelectorAll("[data-countdown]"));

  function tickTimers() {
    timers.forEach(function (timer) {
      var until = Date.parse(timer.dataset.until || "");
      if (isNaN(until)) {
        return;
      }
      var left = until - now();
      var clockEl = timer.querySelector("[data-countdown-clock]");
      var running = timer.querySelector("[data-countdown-running]");
      var done = timer.querySelector("[data-countdown-done]");
      if (left > 0) {
        if (clockEl) {
          clockEl.textContent = clock(left);
        }
        return;
      }
      if (!timer.classList.contains("is-done")) {
        timer.classList.add("is-done");
        if (clockEl) {
          clockEl.textContent = "";
        }
        if (running) {
          running.hidden = true;
        }
        if (done) {
          done.hidden = false;
        }
        var box = timer.closest("[data-due-box]");
        if (box) {
          box.classList.add("gate-due");
        }
      }
    });
  }

  // Time inputs that default to "now" follow the clock until the clinician types in them, so a
  // form left open while the client rests does not chart a stale time.
  var nowInputs = Array.prototype.slice.call(root.querySelectorAll("input[data-default-now]"));
  nowInputs.forEach(function (input) {
    if (input.closest("form") && input.closest("form").querySelector(".is-invalid, [data-error-summary]")) {
      input.dataset.touched = "1"; // a refused form keeps what was typed
    }
    input.addEventListener("input", function () {
      input.dataset.touched = "1";
    });
  });

  function clinicClock() {
    if (offset === null) {
      return null;
    }
    var local = new Date(now() + offset * 60000);
    return pad(local.getUTCHours()) + ":" + pad(local.getUTCMinutes());
  }

  function tickInputs() {
    var value = clinicClock();
    if (!value) {
      return;
    }
    nowInputs.forEach(function (input) {
      if (!input.dataset.touched && document.activeElement !== input) {
        input.value = value;
      }
    });
  }

  // The explanation for a dose that differs from the prescription: shown when it is needed.
  var mismatch = root.querySelector("[data-prescribed-mg]");
  if (mismatch) {
    var form = mismatch.closest("form");
    var mg = form.querySelector("input[name='dose_mg']");
    var tablets = form.querySelector("input[name='tablets']");
    var reason = mismatch.querySelector("textarea");
    var toggle = function () {
      var differs = mg.value !== mismatch.dataset.prescribedMg || tablets.value !== mismatch.dataset.prescribedTablets;
      var keep = reason.value.trim() !== "" || mismatch.querySelector(".is-invalid");
      mismatch.hidden = !(differs || keep);
    };
    mg.addEventListener("input", toggle);
    tablets.addEventListener("input", toggle);
    toggle();
  }

  tickTimers();
  tickInputs();
  window.setInterval(tickTimers, 1000);
  window.setInterval(tickInputs, 5000);
})();
