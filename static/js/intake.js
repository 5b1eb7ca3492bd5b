/* Intake form autosave (R17): htmx posts the form 2 s after typing stops (hx-trigger on the form).
   This file adds the 30-second backstop, only while there are unsaved changes: a timer that fired
   regardless would count as activity and keep an unattended session from the R22 idle logoff. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-intake-form]");
    if (!form || !window.htmx) {
      return;
    }
    var dirty = false;
    var markDirty = function () {
      dirty = true;
    };
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("htmx:beforeRequest", function () {
      dirty = false;
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (!event.detail.successful) {
        dirty = true; // try again on the next tick
      }
    });
    // Signed out meanwhile (another tab, the session's hard limit): the autosave was answered by
    // the sign-in page. Reload, so the server sends the client to sign in and back here.
    form.addEventListener("htmx:beforeSwap", function (event) {
      var url = event.detail.xhr.responseURL;
      if (url && !/\/autosave\/$/.test(new URL(url).pathname)) {
        event.detail.shouldSwap = false;
        window.location.reload();
      }
    });
    // Refused (403: the CSRF cookie was cleared): a fresh page gets a new one, or the sign-in page.
    form.addEventListener("htmx:responseError", function (event) {
      if (event.detail.xhr.status === 403) {
        window.location.reload();
      }
    });
    window.setInterval(function () {
      if (dirty) {
        window.htmx.trigger(form, "intake:autosave");
      }
    }, 30000);
  });
})();
