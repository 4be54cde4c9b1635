// Draws every .fg-plot on the page with the site's own plotly.js, which is fetched only when a
// page has a chart, and only once per visit (instant navigation keeps it loaded). Charts follow
// the light/dark palette and re-colour when it changes.
(function () {
  "use strict";
  var script = document.currentScript;
  var bundleUrl = new URL("../vendor/plotly-cartesian.min.js", script.src).href;
  var loading = null;

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = bundleUrl;
        tag.onload = function () { resolve(window.Plotly); };
        tag.onerror = function () { reject(new Error("could not load " + bundleUrl)); };
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  function themeLayout() {
    var style = getComputedStyle(document.body);
    var fg = style.getPropertyValue("--md-default-fg-color").trim() || "#000";
    var grid = style.getPropertyValue("--md-default-fg-color--lightest").trim() || "#ddd";
    return {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: fg, family: style.getPropertyValue("--md-text-font-family") || "sans-serif" },
      "xaxis.gridcolor": grid,
      "yaxis.gridcolor": grid,
      "xaxis.zerolinecolor": grid,
      "yaxis.zerolinecolor": grid,
    };
  }

  function draw(Plotly, node) {
    if (!node.dataset.figure || node.dataset.drawn) return;
    var figure = JSON.parse(node.dataset.figure);
    var layout = Object.assign({}, figure.layout || {}, { autosize: true });
    node.dataset.drawn = "true";
    return Plotly.newPlot(node, figure.data, layout, { responsive: true, displaylogo: false })
      .then(function () { return Plotly.relayout(node, themeLayout()); });
  }

  function drawAll() {
    var nodes = document.querySelectorAll(".fg-plot");
    if (!nodes.length) return;
    loadPlotly().then(function (Plotly) {
      nodes.forEach(function (node) { draw(Plotly, node); });
    });
  }

  function recolour() {
    if (!window.Plotly) return;
    var layout = themeLayout();
    document.querySelectorAll(".fg-plot[data-drawn]").forEach(function (node) {
      window.Plotly.relayout(node, layout);
    });
  }

  new MutationObserver(recolour).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"],
  });

  if (window.document$) {
    window.document$.subscribe(drawAll);  // Material's instant navigation: every page load
  } else {
    document.addEventListener("DOMContentLoaded", drawAll);
  }
})();
