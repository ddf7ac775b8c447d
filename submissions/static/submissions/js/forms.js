/* Forms (drafting, import, login, delegations): what a person expects after a refused save.
   - [data-error-summary]: the list of what to correct at the top of the form gets the focus
     when the page loads, so that a screen reader reads it and the keyboard starts there;
   - a link to a field (#id_...) in it, or in the return reason at the top, moves the focus
     into that field, not only the scroll position. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#'], .reason-at-top a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var section = field.closest(".section, .field") || field;
    section.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
    if (history.replaceState) { history.replaceState(null, "", link.getAttribute("href")); }
  });
})();
