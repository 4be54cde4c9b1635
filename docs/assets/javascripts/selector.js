// The stack selector on the home page: a tool stays listed when, in every group with a ticked
// box, it has at least one ticked value. The list keeps the guide's teaching order, which the page
// already has; each listed tool says which ticked values it matched, and the learning paths shown
// are those for the ticked uses. Plain checkboxes, so it works with the keyboard.
(function () {
  "use strict";

  function labelOf(box) {
    return box.parentNode.textContent.trim();
  }

  function setup() {
    var form = document.querySelector("form.fg-selector");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "true";
    var tools = Array.prototype.slice.call(form.querySelectorAll(".fg-selector__tools > li"));
    var paths = Array.prototype.slice.call(form.querySelectorAll(".fg-selector__paths li"));
    var pathsIntro = form.querySelector(".fg-selector__paths p");
    var count = form.querySelector(".fg-selector__count");

    function update() {
      var wanted = {};
      form.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
        (wanted[box.name] = wanted[box.name] || []).push(box);
      });
      var groups = Object.keys(wanted);
      var shown = 0;
      tools.forEach(function (tool) {
        var reasons = [];
        var match = groups.every(function (group) {
          var values = (tool.dataset[group] || "").split(" ");
          var hits = wanted[group].filter(function (box) { return values.indexOf(box.value) >= 0; });
          hits.forEach(function (box) { reasons.push(labelOf(box)); });
          return hits.length > 0;
        });
        tool.hidden = !match;
        var why = tool.querySelector(".fg-selector__why");
        why.hidden = !match || reasons.length === 0;
        why.textContent = reasons.length ? "Matches: " + reasons.join(", ") : "";
        if (match) shown += 1;
      });
      count.textContent = shown === tools.length ? "All " + shown + " tools"
        : shown + " of " + tools.length + " tools match";
      var uses = (wanted.use || []).map(function (box) { return box.value; });
      var offered = 0;
      paths.forEach(function (path) {
        var fits = uses.length === 0 || path.dataset.use.split(" ").some(function (u) { return uses.indexOf(u) >= 0; });
        path.hidden = !fits;
        if (fits) offered += 1;
      });
      pathsIntro.textContent = uses.length === 0 ? "Learning paths through the guide:"
        : offered === 1 ? "The learning path for what you ticked:" : "Learning paths for what you ticked:";
    }

    form.addEventListener("change", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    update();
  }

  if (window.document$) {
    window.document$.subscribe(setup);
  } else {
    document.addEventListener("DOMContentLoaded", setup);
  }
})();
