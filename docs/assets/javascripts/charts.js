// Draws every .fg-plot on the page with the site's own plotly.js, which is fetched only when a
// page has a chart, and only once per visit (instant navigation keeps it loaded). Charts follow
// the light/dark palette and re-colour when it changes. Instant navigation swaps the content but
// not the window, so plots that left the page are purged: each holds a window resize listener.
(function () {
  "use strict";
  var script = document.currentScript;
  var bundleUrl = new URL("../vendor/plotly-cartesian.min.js", script.src).href;
  var config = { responsive: true, displaylogo: false };
  var loading = null;
  var drawn = [];

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = bundleUrl;
        tag.onload = function () { resolve(window.Plotly); };
        tag.onerror = function () {
          tag.remove();
          loading = null;  // the next page tries again
          reject(new Error("could not load " + bundleUrl));
        };
        document.head.appendChild(tag);
      });
    }
    return loading;
  }

  // The figure's own layout with the palette's colours on its text and on every axis it has.
  function themed(layout) {
    var style = getComputedStyle(document.body);
    var fg = style.getPropertyValue("--md-default-fg-color").trim() || "#000";
    var grid = style.getPropertyValue("--md-default-fg-color--lightest").trim() || "#ddd";
    var result = Object.assign({}, layout, {
      autosize: true,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: Object.assign({}, layout.font, {
        color: fg, family: style.getPropertyValue("--md-text-font-family").trim() || "sans-serif",
      }),
    });
    Object.keys(layout).concat(["xaxis", "yaxis"]).forEach(function (key) {
      if (/^[xy]axis\d*$/.test(key)) {
        result[key] = Object.assign({}, layout[key], { gridcolor: grid, zerolinecolor: grid });
      }
    });
    return result;
  }

  function draw(Plotly, node) {
    // a node can leave the page while plotly.js loads
    if (!node.isConnected || !node.dataset.figure || node.dataset.drawn) return;
    var figure = JSON.parse(node.dataset.figure);
    node.dataset.drawn = "true";
    drawn.push(node);
    Plotly.newPlot(node, figure.data, themed(figure.layout || {}), config);
  }

  function purgeDetached() {
    drawn = drawn.filter(function (node) {
      if (node.isConnected) return true;
      window.Plotly.purge(node);
      return false;
    });
  }

  function onPage() {
    if (window.Plotly) purgeDetached();
    var nodes = document.querySelectorAll(".fg-plot");
    if (!nodes.length) return;
    loadPlotly().then(function (Plotly) {
      nodes.forEach(function (node) { draw(Plotly, node); });
    }, function (error) {
      console.error(error);
    });
  }

  function recolour() {
    if (!window.Plotly) return;
    drawn.forEach(function (node) {
      if (node.isConnected) window.Plotly.react(node, node.data, themed(node.layout), config);
    });
  }

  new MutationObserver(recolour).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"],
  });

  if (window.document$) {
    window.document$.subscribe(onPage);  // Material's instant navigation: every page load
  } else {
    document.addEventListener("DOMContentLoaded", onPage);
  }
})();
