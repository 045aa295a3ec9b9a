// Drawing shared by the static --html report and `aieval view`: one
// test's details (output, assertions, the full request, the diff against
// another run) and the status/text filter. Pages only add their layout.
var aieval = (function () {
  "use strict";

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

  // diffPre draws diff operations [op, text]: op -1 only in the base, 0 in
  // both, 1 only in the head; keep chooses the side (-1 base, 1 head).
  function diffPre(ops, keep) {
    var pre = el("pre");
    ops.forEach(function (d) {
      var op = d[0], text = d[1];
      if (op === 0) { pre.appendChild(document.createTextNode(text)); }
      else if (op === keep) { pre.appendChild(el(op < 0 ? "del" : "ins", "", text)); }
    });
    return pre;
  }

  // sideBySide puts the base side of ops on the left, the head on the right.
  function sideBySide(ops, leftTitle, rightTitle) {
    var sbs = el("div", "sbs");
    var left = el("div", "side base"), right = el("div", "side head");
    left.appendChild(el("h3", "", leftTitle));
    left.appendChild(diffPre(ops, -1));
    right.appendChild(el("h3", "", rightTitle));
    right.appendChild(diffPre(ops, 1));
    sbs.appendChild(left);
    sbs.appendChild(right);
    return sbs;
  }

  // request draws every message of the request, then its settings.
  function request(req) {
    var box = el("div", "request");
    (req.messages || []).forEach(function (m) {
      var msg = el("div", "msg " + m.role);
      msg.appendChild(el("div", "role", m.role + (m.name ? " (" + m.name + ")" : "")));
      msg.appendChild(el("pre", "", m.content));
      box.appendChild(msg);
    });
    if (req.settings && Object.keys(req.settings).length) {
      box.appendChild(el("div", "role", "settings"));
      box.appendChild(el("pre", "settings", JSON.stringify(req.settings, null, 2)));
    }
    return box;
  }

  function score(x) { return typeof x === "number" ? x.toFixed(2) : "–"; }

  // detail draws one test: facts, reason, assertions, output (or its diff
  // against the baseline), params and the request it sent.
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
        var li = el("li", word, word.toUpperCase() + " " + a.type + " (score " + score(a.score) + "): " + a.reason);
        if (a.diff) { li.appendChild(el("pre", "", a.diff)); }
        ul.appendChild(li);
      });
      section(box, "Assertions", ul);
    }
    if (d.base) {
      section(box, "Output against the baseline", sideBySide(d.base.diff || [],
        "Baseline (" + d.base.status + ", score " + score(d.base.score) + ")", "This run"));
    } else {
      section(box, "Output", el("pre", "output", d.output));
    }
    if (d.params) { section(box, "Params", el("pre", "", JSON.stringify(d.params, null, 2))); }
    if (d.request) { section(box, "Request", request(d.request)); }
    else if (d.input) { section(box, "Input", el("pre", "", d.input)); }
    return box;
  }

  // matches: row passes the status filter ("all" or one of the
  // space-separated words of data-status) and holds the text query.
  function matches(row, status, q) {
    var st = (row.dataset.status || "").split(" ");
    return (status === "all" || st.indexOf(status) >= 0) &&
      (q === "" || row.textContent.toLowerCase().indexOf(q) >= 0);
  }

  return { el: el, section: section, diffPre: diffPre, sideBySide: sideBySide, request: request, detail: detail, matches: matches, score: score };
})();
