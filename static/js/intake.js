/* Intake form autosave (R17). htmx posts the form 2 s after typing stops and 1 s after a choice
   (hx-trigger on the form); the server answers with the status line ("Saved at 3:42 PM"). This
   file adds:
   - the status as it happens: "Saving…" while a request is out, the server's "Saved at" only once
     it answered OK, and what went wrong when it did not (what was typed stays in the form, and is
     sent again);
   - a save when the page is hidden or left (visibilitychange, pagehide) of what is not saved yet,
     with fetch keepalive (sendBeacon where there is none), which outlives the page; the CSRF token
     travels in the body, as in the form's own posts;
   - a copy of those unsaved answers in sessionStorage until the next page load. A reload asks the
     server for the new page before the old page's last save can reach it, so the new page may
     come without it: the copy is put back and saved. It is this tab's only, for this intake and
     step, and removed on the next intake page load whatever it holds;
   - the 30-second backstop, only while there are unsaved changes: a timer that fired regardless
     would count as activity and keep an unattended session from the R22 idle logoff. */
(function () {
  "use strict";

  var COPY_KEY = "kap-intake-unsaved";
  var COPY_MAX_AGE_MS = 15 * 60 * 1000;
  var FAILED_OFFLINE =
    "Not saved yet: there is no connection. What you typed is still here, and is saved when the connection is back.";
  var FAILED_SERVER =
    "Not saved yet: the clinic's server had a problem. What you typed is still here, and saving is tried again shortly.";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-intake-form]");
    var status = document.getElementById("autosave-status");
    if (!form || !status) {
      return;
    }
    var url = form.getAttribute("hx-post");
    var copyFor = form.dataset.intakeId + " " + window.location.pathname;
    var dirty = false; // changed since the last save was sent
    var htmxInFlight = false; // an htmx save is out
    var htmxOut = false; // ... and holds what no other save sent carries (lost if the page goes)
    var fetchesOut = 0; // this file's own saves not answered yet
    var superseded = false; // hx-sync replace aborted the htmx save that was out

    // --- The status line -----------------------------------------------------------------------
    var shown = "";
    var show = function (kind, text) {
      shown = kind;
      status.textContent = "";
      if (!text) {
        return;
      }
      var icon = document.createElement("i");
      icon.className = kind === "problem" ? "bi bi-exclamation-triangle" : "bi bi-arrow-repeat";
      icon.setAttribute("aria-hidden", "true");
      var words = document.createElement("span");
      words.textContent = " " + text;
      if (kind === "problem") {
        words.className = "text-danger-emphasis";
      }
      status.appendChild(icon);
      status.appendChild(words);
    };
    var showServer = function (html) {
      // The server's own status partial (templates/intake/_autosave_status.html).
      status.innerHTML = html;
      shown = status.querySelector(".text-danger-emphasis") ? "problem" : "saved";
    };

    // --- What the form holds, and the copy kept across a reload ---------------------------------
    var snapshot = function () {
      var entries = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken" && typeof value === "string") {
          entries.push([name, value]);
        }
      });
      return entries;
    };
    var same = function (a, b) {
      return JSON.stringify(a) === JSON.stringify(b);
    };
    var keepCopy = function (entries) {
      try {
        window.sessionStorage.setItem(
          COPY_KEY,
          JSON.stringify({ for: copyFor, at: Date.now(), entries: entries })
        );
      } catch (error) {
        // Storage full or refused (private mode): the save on the way out still goes.
      }
    };
    var dropCopy = function () {
      try {
        window.sessionStorage.removeItem(COPY_KEY);
      } catch (error) {
        // Nothing to drop.
      }
    };
    var takeCopy = function () {
      var copy = null;
      try {
        copy = JSON.parse(window.sessionStorage.getItem(COPY_KEY) || "null");
      } catch (error) {
        copy = null;
      }
      dropCopy();
      if (!copy || copy.for !== copyFor || !(Date.now() - copy.at < COPY_MAX_AGE_MS)) {
        return null;
      }
      return copy.entries;
    };
    var putBack = function (entries) {
      var values = {};
      entries.forEach(function (pair) {
        (values[pair[0]] = values[pair[0]] || []).push(pair[1]);
      });
      Array.prototype.forEach.call(form.elements, function (field) {
        var name = field.name;
        if (!name || name === "csrfmiddlewaretoken" || field.disabled || field.type === "submit") {
          return;
        }
        var list = values[name] || [];
        if (field.type === "checkbox" || field.type === "radio") {
          field.checked = list.indexOf(field.value) !== -1;
        } else if (field.tagName === "SELECT" && field.multiple) {
          Array.prototype.forEach.call(field.options, function (option) {
            option.selected = list.indexOf(option.value) !== -1;
          });
        } else if (Object.prototype.hasOwnProperty.call(values, name) && list.length) {
          field.value = list.shift();
        }
      });
    };

    // --- Saves this file sends itself ------------------------------------------------------------
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    var post = function (entries) {
      var body = new URLSearchParams();
      entries.forEach(function (pair) {
        body.append(pair[0], pair[1]);
      });
      if (token) {
        body.append("csrfmiddlewaretoken", token.value);
      }
      if (!window.fetch) {
        return navigator.sendBeacon && navigator.sendBeacon(url, body);
      }
      fetchesOut += 1;
      show("saving", "Saving…");
      window
        .fetch(url, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          keepalive: true,
          headers: token ? { "X-CSRFToken": token.value } : {},
        })
        .then(function (response) {
          var answeredBy = new URL(response.url, window.location.href).pathname;
          if (!/\/autosave\/$/.test(answeredBy)) {
            // Signed out meanwhile: answered by the sign-in page. As for htmx below.
            dirty = true;
            if (document.visibilityState === "visible") {
              window.location.reload();
            }
          }
          if (!response.ok || !/\/autosave\/$/.test(answeredBy)) {
            throw { status: response.status };
          }
          return response.text();
        })
        .then(function (html) {
          fetchesOut -= 1;
          if (htmxOut || fetchesOut) {
            return; // a later save is out: its answer says where things stand
          }
          showServer(html);
          if (!dirty && same(entries, snapshot())) {
            dropCopy();
          }
        })
        .catch(function (error) {
          // A TypeError from fetch: no connection. An object with a status: the server's answer.
          fetchesOut -= 1;
          dirty = true;
          show("problem", error && error.status ? FAILED_SERVER : FAILED_OFFLINE);
        });
    };
    var saveNow = function () {
      dirty = false;
      htmxOut = false; // this save carries everything the htmx one did, and what came after
      post(snapshot());
    };

    // --- Typing and the htmx saves ----------------------------------------------------------------
    var changed = function () {
      dirty = true;
      if (shown === "saved") {
        show("", ""); // "Saved at" no longer holds for what is in the form
      }
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    var submitted = false;
    form.addEventListener("submit", function () {
      submitted = true; // the page's own post saves the step: nothing to send on the way out
      dirty = false;
      htmxOut = false;
      dropCopy();
    });
    form.addEventListener("htmx:abort", function () {
      if (htmxInFlight) {
        superseded = true; // the aborted request's afterRequest comes next: not a failure
      }
    });
    form.addEventListener("htmx:beforeRequest", function () {
      dirty = false;
      htmxInFlight = true;
      htmxOut = true;
      show("saving", "Saving…");
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (superseded) {
        superseded = false;
        return;
      }
      htmxInFlight = false;
      htmxOut = false;
      var xhr = event.detail.xhr;
      if (!event.detail.successful) {
        dirty = true; // try again on the next tick
        show("problem", xhr && xhr.status ? FAILED_SERVER : FAILED_OFFLINE);
      }
    });
    // Signed out meanwhile (another tab, the session's hard limit): the autosave was answered by
    // the sign-in page. Reload, so the server sends the client to sign in and back here; what
    // was typed goes with the copy (pagehide below).
    form.addEventListener("htmx:beforeSwap", function (event) {
      var responseUrl = event.detail.xhr.responseURL;
      if (responseUrl && !/\/autosave\/$/.test(new URL(responseUrl).pathname)) {
        event.detail.shouldSwap = false;
        dirty = true;
        window.location.reload();
      }
    });
    // Refused (403: the CSRF cookie was cleared): a fresh page gets a new one, or the sign-in page.
    form.addEventListener("htmx:responseError", function (event) {
      if (event.detail.xhr.status === 403) {
        dirty = true;
        window.location.reload();
      }
    });

    // --- Leaving the page -----------------------------------------------------------------------
    var leaving = function () {
      if (submitted || (!dirty && !htmxOut && !fetchesOut)) {
        return;
      }
      keepCopy(snapshot());
      if (dirty || htmxOut) {
        saveNow();
      }
    };
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        leaving();
      }
    });
    window.addEventListener("pagehide", leaving);
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        submitted = false; // back from the back-forward cache, the page is in use again
      }
    });

    // --- Back on the page: what had not reached the server when it was left ---------------------
    var copy = takeCopy();
    if (copy && !same(copy, snapshot())) {
      putBack(copy);
      saveNow();
    }

    window.addEventListener("online", function () {
      if (dirty) {
        saveNow();
      }
    });
    window.setInterval(function () {
      if (dirty && window.htmx) {
        window.htmx.trigger(form, "intake:autosave");
      }
    }, 30000);
  });
})();
