"use strict";
(function () {
  var data = JSON.parse(document.getElementById("aieval-data").textContent);
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button.status-filter"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.test-row"));
  var status = "all";

  function apply() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var ok = (status === "all" || row.dataset.status === status) &&
        (q === "" || row.textContent.toLowerCase().indexOf(q) >= 0);
      row.hidden = !ok;
      if (row.detail) { row.detail.hidden = !ok || !row.classList.contains("open"); }
      if (ok) { n++; }
    });
    shown.textContent = String(n);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function section(parent, title, node) {
    parent.appendChild(el("h3", "", title));
    parent.appendChild(node);
  }

  // diffPre draws go-diff operations: op -1 deleted, 0 equal, 1 inserted;
  // keep chooses which side (-1 baseline, 1 this run).
  function diffPre(ops, keep) {
    var pre = el("pre");
    ops.forEach(function (d) {
      var op = d[0], text = d[1];
      if (op === 0) { pre.appendChild(document.createTextNode(text)); }
      else if (op === keep) { pre.appendChild(el(op < 0 ? "del" : "ins", "", text)); }
    });
    return pre;
  }

  function detail(d) {
    var box = el("div", "detail");
    var facts = [];
    if (d.model) { facts.push("model " + d.model); }
    if (d.cached) { facts.push("cached"); }
    if (d.pass_rate) { facts.push(d.pass_rate); }
    if (facts.length) { box.appendChild(el("p", "", facts.join(" · "))); }
    if (d.reason) { section(box, "Reason", el("pre", "", d.reason)); }
    if (d.assertions && d.assertions.length) {
      var ul = el("ul");
      d.assertions.forEach(function (a) {
        var word = a.error ? "error" : (a.pass ? "pass" : "fail");
        var li = el("li", word, word.toUpperCase() + " " + a.type + " (score " + a.score.toFixed(2) + "): " + a.reason);
        if (a.transformed != null) { li.appendChild(el("pre", "", "scored its transformed output: " + a.transformed)); }
        if (a.diff) { li.appendChild(el("pre", "", a.diff)); }
        ul.appendChild(li);
      });
      section(box, "Assertions", ul);
    }
    if (d.base) {
      var sbs = el("div", "sbs");
      var left = el("div"), right = el("div");
      left.appendChild(el("h3", "", "Baseline (" + d.base.status + ", score " + d.base.score.toFixed(2) + ")"));
      left.appendChild(diffPre(d.base.diff || [], -1));
      right.appendChild(el("h3", "", "This run"));
      right.appendChild(diffPre(d.base.diff || [], 1));
      sbs.appendChild(left);
      sbs.appendChild(right);
      section(box, "Output against the baseline", sbs);
    } else {
      section(box, "Output", el("pre", "", d.output));
    }
    if (d.transformed != null) { section(box, "Transformed output (" + d.transform + ")", el("pre", "", d.transformed)); }
    if (d.params) { section(box, "Params", el("pre", "", JSON.stringify(d.params, null, 2))); }
    if (d.input) { section(box, "Input", el("pre", "", d.input)); }
    return box;
  }

  function toggle(row) {
    if (!row.detail) {
      var tr = el("tr", "detail-row");
      var td = el("td");
      td.colSpan = row.children.length;
      td.appendChild(detail(data[Number(row.dataset.idx)]));
      tr.appendChild(td);
      row.parentNode.insertBefore(tr, row.nextSibling);
      row.detail = tr;
      row.classList.add("open");
    } else {
      row.classList.toggle("open");
    }
    row.detail.hidden = !row.classList.contains("open");
  }

  rows.forEach(function (row) {
    row.addEventListener("click", function () { toggle(row); });
    row.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(row); }
    });
  });
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      status = b.dataset.status;
      buttons.forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      apply();
    });
  });
  filter.addEventListener("input", apply);
  apply();
})();
