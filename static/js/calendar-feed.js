/* Calendar feed page: the "Copy" button next to the new address (shown once). Without
   JavaScript, or without clipboard access, the address stays selectable to copy by hand. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-copy-target]");
    if (!button) {
      return;
    }
    var field = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    button.hidden = false;
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      var done = function () {
        status.textContent = "Copied. Now paste it into your calendar app.";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          status.textContent = "Press Ctrl+C (or ⌘C) to copy the selected address.";
        });
      } else {
        status.textContent = "Press Ctrl+C (or ⌘C) to copy the selected address.";
      }
    });
  });
})();
