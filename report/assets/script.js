// Glassbox report: example filtering, the tokens/words switch and the attention
// thumbnails. Plain JavaScript, no network, nothing external.
(function () {
  "use strict";
  var list = document.querySelectorAll("#example-list details.ex");
  var f = {
    text: document.getElementById("f-text"),
    gold: document.getElementById("f-gold"),
    pred: document.getElementById("f-pred"),
    wrong: document.getElementById("f-wrong"),
    cmin: document.getElementById("f-cmin"),
    cmax: document.getElementById("f-cmax"),
    tokens: document.getElementById("f-tokens"),
    count: document.getElementById("f-count")
  };
  function filter() {
    var q = f.text.value.trim().toLowerCase();
    var lo = parseFloat(f.cmin.value), hi = parseFloat(f.cmax.value);
    if (isNaN(lo)) lo = 0;
    if (isNaN(hi)) hi = 1;
    var shown = 0;
    for (var i = 0; i < list.length; i++) {
      var e = list[i], d = e.dataset, c = parseFloat(d.conf);
      var ok = (!f.gold.value || d.gold === f.gold.value) &&
        (!f.pred.value || d.pred === f.pred.value) &&
        (!f.wrong.checked || d.wrong === "true") &&
        c >= lo && c <= hi &&
        (!q || d.id.toLowerCase().indexOf(q) >= 0 ||
          e.querySelector(".ex-text").textContent.toLowerCase().indexOf(q) >= 0);
      e.hidden = !ok;
      if (ok) shown++;
    }
    f.count.textContent = shown + " of " + list.length + " shown";
  }
  function tokens() {
    var on = f.tokens.checked;
    document.querySelectorAll(".heat.tokens").forEach(function (p) { p.hidden = !on; });
    document.querySelectorAll(".heat.words").forEach(function (p) { p.hidden = on; });
  }
  if (f.text) {
    ["input", "change"].forEach(function (ev) {
      [f.text, f.gold, f.pred, f.wrong, f.cmin, f.cmax].forEach(function (el) { el.addEventListener(ev, filter); });
    });
    f.tokens.addEventListener("change", tokens);
    filter();
  }
  document.querySelectorAll(".attn-ex").forEach(function (ex) {
    var big = ex.querySelector(".attn-big image"), sel = ex.querySelector(".attn-sel");
    ex.querySelectorAll(".thumb-btn").forEach(function (b) {
      b.addEventListener("click", function () {
        var img = b.querySelector("image");
        if (!big || !img) return;
        big.setAttribute("href", img.getAttribute("href"));
        sel.textContent = b.dataset.label;
        ex.querySelectorAll(".thumb-btn").forEach(function (o) { o.setAttribute("aria-pressed", o === b ? "true" : "false"); });
      });
    });
  });
})();
