// Material for MkDocs downloads the whole search index on every page load, whether or not the
// reader searches. Hold that one request back until search is opened (click, focus, the "f",
// "s" or "/" shortcuts, or a shared ?q= link); every other request passes through untouched.
(function () {
  "use strict";
  var INDEX = /\/search\/search_index\.json$/;
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  var held = [];
  var released = false;

  XMLHttpRequest.prototype.open = function (method, url) {
    this.__fgSearchIndex = INDEX.test(String(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__fgSearchIndex && !released) {
      held.push([this, arguments]);
      return undefined;
    }
    return send.apply(this, arguments);
  };

  function release() {
    if (released) return;
    released = true;
    held.forEach(function (call) { send.apply(call[0], call[1]); });
    held = [];
  }

  if (/[?&]q=/.test(location.search)) release();
  document.addEventListener("keydown", function (event) {
    if (["f", "s", "/"].indexOf(event.key) >= 0) release();
  }, true);
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input.md-search__input")) release();
  });
  document.addEventListener("change", function (event) {
    if (event.target.id === "__search") release();
  });
})();
