// The stack selector on the home page: a tool stays listed when, in every group with a ticked
// box, it has at least one ticked value. Plain checkboxes, so it works with the keyboard.
(function () {
  "use strict";

  function setup() {
    var form = document.querySelector("form.fg-selector");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "true";
    var tools = Array.prototype.slice.call(form.querySelectorAll(".fg-selector__tools > li"));
    var count = form.querySelector(".fg-selector__count");

    function update() {
      var wanted = {};
      form.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
        (wanted[box.name] = wanted[box.name] || []).push(box.value);
      });
      var shown = 0;
      tools.forEach(function (tool) {
        var match = Object.keys(wanted).every(function (group) {
          var values = (tool.dataset[group] || "").split(" ");
          return wanted[group].some(function (value) { return values.indexOf(value) >= 0; });
        });
        tool.hidden = !match;
        if (match) shown += 1;
      });
      count.textContent = shown === tools.length ? "All " + shown + " tools"
        : shown + " of " + tools.length + " tools match";
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
