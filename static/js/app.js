/* KAP Clinic behaviour, loaded as a file so the Content-Security-Policy needs no 'unsafe-inline'. */
(function () {
  "use strict";

  // Accessible forms: move focus to the error summary so the problem is announced and visible.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });

  // R22 idle logoff: after the idle timeout with no request to the server, reload the page. The
  // server then ends the session and shows the sign-in page, so client details do not stay on an
  // unattended screen. Every htmx request (e.g. draft autosave) counts as activity.
  var timeout = parseInt(document.body.dataset.idleTimeout || "0", 10);
  if (timeout > 0) {
    var timer;
    var arm = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        window.location.reload();
      }, (timeout + 5) * 1000);
    };
    arm();
    document.body.addEventListener("htmx:afterRequest", arm);
  }
})();
