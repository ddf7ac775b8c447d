/* The notices area's one behaviour (no inline script under the Content-Security-Policy):
   a button[data-print] prints the page (the print stylesheet leaves out the header, the
   navigation and the forms). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (!button) { return; }
    event.preventDefault();
    window.print();
  });
})();
