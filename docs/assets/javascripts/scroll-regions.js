// A region of the page that scrolls sideways (a wide table, a long line of notebook code) takes
// keyboard focus, so that a keyboard user can scroll it (WCAG 2.1.1), as Material does for its own
// code blocks; a region that fits stays out of the tab order. Checked on every page load, instant
// navigation included, when the window is resized, and when a collapsed section opens: a region in
// a closed <details> is not measured, since measuring it makes the browser lay out what it hides
// (the data tables of every chart: most of a chart page's elements).
//
// Measuring happens while the browser is idle, a few milliseconds at a time: measuring a region in
// a notebook cell that is off screen (and so not laid out, see fieldguide.css) lays that cell out,
// which costs milliseconds per cell. Within a slice every region is measured before any changes,
// so that the browser lays the page out once per slice. window.fgScrollRegions resolves when every
// region of the page has been decided.
(function () {
  "use strict";
  var REGIONS = ".md-typeset__scrollwrap, .md-typeset table:not([class]), .jupyter-wrapper .highlight-ipynb pre";
  var SLICE_MS = 8;
  var round = 0;

  var idle = window.requestIdleCallback
    ? function (callback) { window.requestIdleCallback(callback, { timeout: 1000 }); }
    : function (callback) { setTimeout(callback, 50); };

  function slice(regions, done, mine) {
    if (mine !== round) return done();  // a newer round (another page, a resize) took over
    var start = performance.now(), batch = [];
    while (regions.length && performance.now() - start < SLICE_MS) {
      var region = regions.shift();
      batch.push([region, region.scrollWidth > region.clientWidth]);
    }
    batch.forEach(function (measured) {
      if (measured[1]) measured[0].setAttribute("tabindex", "0");
      else measured[0].removeAttribute("tabindex");
    });
    if (regions.length) idle(function () { slice(regions, done, mine); });
    else done();
  }

  function update() {
    var mine = ++round;
    var regions = Array.prototype.filter.call(document.querySelectorAll(REGIONS), function (region) {
      return !region.closest("details:not([open])");
    });
    window.fgScrollRegions = new Promise(function (done) {
      idle(function () { slice(regions, done, mine); });
    });
  }

  // after Material's own subscribers have wrapped the page's tables
  window.document$.subscribe(function () { requestAnimationFrame(update); });
  window.addEventListener("resize", update);
  document.addEventListener("toggle", update, true);  // toggle does not bubble
})();
