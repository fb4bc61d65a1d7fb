// Live updates for list pages: elements with data-refresh="<seconds>" and an id are fetched
// again from the same URL and swapped in. Pauses while the tab is hidden or a field has focus.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) { return; }
  var regions = document.querySelectorAll("[data-refresh][id]");
  if (!regions.length) { return; }
  function seconds() {
    var least = 60;
    var nodes = document.querySelectorAll("[data-refresh][id]");
    for (var i = 0; i < nodes.length; i++) {
      var value = parseInt(nodes[i].getAttribute("data-refresh"), 10);
      if (value > 0 && value < least) { least = value; }
    }
    return least;
  }
  function busy() {
    var active = document.activeElement;
    return document.hidden || (active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName));
  }
  function schedule() { setTimeout(tick, seconds() * 1000); }
  function tick() {
    if (busy()) { schedule(); return; }
    fetch(window.location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok || r.redirected) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var nodes = document.querySelectorAll("[data-refresh][id]");
        for (var i = 0; i < nodes.length; i++) {
          var fresh = doc.getElementById(nodes[i].id);
          if (fresh) { nodes[i].replaceWith(document.importNode(fresh, true)); }
        }
        schedule();
      })
      .catch(function () { setTimeout(tick, 30000); });
  }
  schedule();
})();
