// A region of the page that scrolls sideways (a wide table, a long line of notebook code) takes
// keyboard focus, so that a keyboard user can scroll it (WCAG 2.1.1), as Material does for its own
// code blocks; a region that fits stays out of the tab order. Checked on every page load, instant
// navigation included, when the window is resized, and when a collapsed section opens: a region in
// a closed <details> is not measured, since measuring it makes the browser lay out what it hides
// (the data tables of every chart: most of a chart page's elements).
(function () {
  "use strict";
  var REGIONS = ".md-typeset__scrollwrap, .md-typeset table:not([class]), .jupyter-wrapper .highlight-ipynb pre";

  function update() {
    document.querySelectorAll(REGIONS).forEach(function (region) {
      if (region.closest("details:not([open])")) return;
      if (region.scrollWidth > region.clientWidth) {
        region.setAttribute("tabindex", "0");
      } else {
        region.removeAttribute("tabindex");
      }
    });
  }

  // after Material's own subscribers have wrapped the page's tables
  window.document$.subscribe(function () { requestAnimationFrame(update); });
  window.addEventListener("resize", update);
  document.addEventListener("toggle", update, true);  // toggle does not bubble
})();
