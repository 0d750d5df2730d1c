/* Fold the filter form away on a narrow screen (a phone), so the results come first.
   The form is rendered open, which is what wide screens and readers without JavaScript
   get; a form that shows an error stays open, so the reader sees what to correct.
   Loaded as a file right after the form (the CSP allows no inline script). */
(function () {
  "use strict";
  if (!window.matchMedia) {
    return;
  }
  var narrow = window.matchMedia("(max-width: 52rem)");
  var folds = document.querySelectorAll("details[data-fold-narrow]");
  function fold() {
    for (var i = 0; i < folds.length; i++) {
      // Wide screens hide the toggle (CSS), so the form must be open there.
      if (!narrow.matches) {
        folds[i].open = true;
      } else if (!folds[i].querySelector("[aria-invalid=true]")) {
        folds[i].open = false;
      }
    }
  }
  fold();
  if (narrow.addEventListener) {
    narrow.addEventListener("change", fold);
  }
})();
