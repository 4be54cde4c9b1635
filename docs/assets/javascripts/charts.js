// Every .fg-plot arrives with a static picture drawn at build time (scripts/site/static_charts.py) in a
// box of fixed height. plotly.js (about 500 KB gzip) is fetched only when the reader reaches for a
// chart (pointer, keyboard focus, touch), or scrolls one into view and the browser is idle: never
// during the page load. The interactive chart then replaces the picture in the same box. Charts
// follow the light/dark palette and re-colour when it changes. Instant navigation swaps the
// content but not the window, so plots that left the page are purged: each holds a window resize
// listener.
(function () {
  "use strict";
  // Resolved now: the script's src would resolve against whichever page instant navigation shows.
  // The build, which draws the pictures with this file's theming, loads plotly.js itself.
  var script = document.currentScript;
  var bundleUrl = script.src ? new URL("../vendor/plotly-cartesian.min.js", script.src).href : null;
  var config = { responsive: true, displaylogo: false };
  var loading = null;
  var drawn = [];
  var observer = null;

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = bundleUrl;
        tag.onload = function () { resolve(window.Plotly); };
        tag.onerror = function () {
          tag.remove();
          loading = null;  // the next chart or page tries again
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
    if (!node.isConnected) return;  // a node can leave the page while plotly.js loads
    var figure = JSON.parse(node.dataset.figure);
    var picture = node.querySelector(".fg-plot__static");
    // Removed in the same task as the plot is drawn: no frame shows an empty box.
    if (picture) picture.remove();
    drawn.push(node);
    Plotly.newPlot(node, figure.data, themed(figure.layout || {}), config);
  }

  function interactive(node) {
    if (node.dataset.drawn) return;
    node.dataset.drawn = "loading";
    loadPlotly().then(function (Plotly) {
      node.dataset.drawn = "true";
      draw(Plotly, node);
    }, function (error) {
      // Not again on this page, where every pointer move would ask; the next page tries again.
      node.dataset.drawn = "failed";
      console.error(error);
    });
  }

  function whenIdle(callback) {
    if (window.requestIdleCallback) window.requestIdleCallback(callback, { timeout: 2000 });
    else setTimeout(callback, 200);
  }

  // Charts in view when the reader first scrolls, and those scrolled to later, turn interactive
  // once the browser is idle. The scroll that instant navigation makes (back to the top) is not one.
  function watchOnScroll(nodes) {
    if (!("IntersectionObserver" in window)) return;
    function onScroll() {
      if (!nodes[0].isConnected) return window.removeEventListener("scroll", onScroll);
      if (window.scrollY === 0) return;
      window.removeEventListener("scroll", onScroll);
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (!entry.isIntersecting) return;
          observer.unobserve(entry.target);
          whenIdle(function () { interactive(entry.target); });
        });
      });
      nodes.forEach(function (node) { observer.observe(node); });
    }
    window.addEventListener("scroll", onScroll, { passive: true });
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
    if (observer) observer.disconnect();
    observer = null;
    var nodes = Array.prototype.slice.call(document.querySelectorAll(".fg-plot[data-figure]"));
    // pointermove, not pointerenter: a pointer that rests where a chart appears enters nothing.
    nodes.forEach(function (node) {
      ["pointermove", "focusin", "touchstart"].forEach(function (type) {
        node.addEventListener(type, function () { interactive(node); }, { passive: true });
      });
    });
    if (nodes.length) watchOnScroll(nodes);
  }

  function recolour() {
    if (!window.Plotly) return;
    drawn.forEach(function (node) {
      if (node.isConnected) window.Plotly.react(node, node.data, themed(node.layout), config);
    });
  }

  // The build draws the static pictures with this same theming (scripts/site/static_charts.py).
  window.fgCharts = { themed: themed };

  new MutationObserver(recolour).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"],
  });

  if (window.document$) {
    window.document$.subscribe(onPage);  // Material's instant navigation: every page load
  } else {
    document.addEventListener("DOMContentLoaded", onPage);
  }
})();
