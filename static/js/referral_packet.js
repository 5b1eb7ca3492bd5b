/* The referral packet's Print button. A file, not inline JS, so the Content-Security-Policy holds. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print-page]");
    if (button) {
      window.print();
    }
  });
})();
