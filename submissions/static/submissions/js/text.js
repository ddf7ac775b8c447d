/* The text page (and its diff): after a refused action the page is answered at the address
   the form was sent to; it is the text's page, so the address becomes the text's own, and a
   reload asks for the page again (what was typed is kept by the server) instead of sending
   the form a second time. */
(function () {
  "use strict";
  var page = document.querySelector("[data-page-url]");
  if (!page || !window.history.replaceState) { return; }
  var url = page.getAttribute("data-page-url");
  if (url && window.location.pathname !== url) {
    window.history.replaceState(null, "", url + window.location.hash);
  }
})();
