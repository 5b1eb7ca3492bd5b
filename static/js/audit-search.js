/* The audit trail's Who and Client fields (templates/audit/_search_field.html): htmx brings a
 * few matches as the admin types; this puts a picked match's name in the field and its id in the
 * hidden input beside it, and lets the keyboard move through the matches. Without it the page
 * still works: the typed name is looked up when the form is sent. */
(function () {
  "use strict";

  function fieldOf(element) {
    return element.closest("[data-suggest]");
  }

  function close(field) {
    var box = field.querySelector(".audit-suggestions");
    if (box) {
      box.replaceChildren();
    }
  }

  function options(field) {
    return Array.prototype.slice.call(field.querySelectorAll("[data-pick-id]"));
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-pick-id]");
    document.querySelectorAll("[data-suggest]").forEach(function (field) {
      if (!option || fieldOf(option) !== field) {
        if (!field.contains(event.target)) {
          close(field);
        }
      }
    });
    if (!option) {
      return;
    }
    var field = fieldOf(option);
    var input = field.querySelector("[data-suggest-input]");
    field.querySelector("input[type=hidden]").value = option.dataset.pickId;
    input.value = option.dataset.pickLabel;
    close(field);
    input.focus();
  });

  // Typing again un-picks: the text, not an earlier pick, then says whom to filter by.
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-suggest-input]")) {
      fieldOf(event.target).querySelector("input[type=hidden]").value = "";
    }
  });

  document.addEventListener("keydown", function (event) {
    var field = event.target.closest && event.target.closest("[data-suggest]");
    if (!field) {
      return;
    }
    var list = options(field);
    var input = field.querySelector("[data-suggest-input]");
    var at = list.indexOf(event.target);
    if (event.key === "Escape") {
      close(field);
      input.focus();
    } else if (event.key === "ArrowDown" && list.length) {
      event.preventDefault();
      list[Math.min(at + 1, list.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      if (at === 0) {
        input.focus();
      } else {
        list[at - 1].focus();
      }
    }
  });
})();
