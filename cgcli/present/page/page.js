/* cgraph graph --format html: the page's script (inlined by present/html.py).
   Data: #cgraph-data (features/diagram.page_data): nodes, explain's steps, the edges
   carrying each node's value (svg ids), folded chains. No network, no innerHTML. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("cgraph-data").textContent);
  var nodes = data.nodes, steps = data.steps, view = document.getElementById("view");
  var svg = view.querySelector("svg"), root = svg.querySelector("g.graph") || svg;
  var $ = function (id) { return document.getElementById(id); };
  var outEdges = nodes.map(function () { return []; });
  data.edges.forEach(function (e) { outEdges[e.node].push(e.id); });
  var labels = {};  // edge id -> {val, grad} text elements, made when first needed
  var layer = document.createElementNS(NS, "g");
  layer.setAttribute("id", "edge-labels");
  root.appendChild(layer);

  function label(eid) {
    var l = labels[eid];
    if (l) return l;
    var g = document.getElementById(eid), path = g && g.querySelector("path");
    var x = 0, y = 0;
    if (path) {
      var p = path.getPointAtLength(path.getTotalLength() / 2);
      x = p.x; y = p.y;
    }
    l = {};
    ["val", "grad"].forEach(function (cls) {
      var t = document.createElementNS(NS, "text");
      t.setAttribute("class", cls);
      t.setAttribute("x", x);
      t.setAttribute("y", cls === "val" ? y - 5 : y + 13);
      t.dataset.edge = eid;
      layer.appendChild(t);
      l[cls] = t;
    });
    labels[eid] = l;
    return l;
  }

  function mark(i, cls, text) {  // text null: clear
    outEdges[i].forEach(function (eid) {
      var t = label(eid)[cls];
      t.textContent = text === null ? "" : text;
      t.dataset.node = text === null ? "" : String(i);
      var g = document.getElementById(eid);
      if (g) {
        g.classList.remove("lit", "fwd", "bwd");
        if (text !== null) g.classList.add("lit", cls === "val" ? "fwd" : "bwd");
      }
    });
  }

  // constants the steps do not compute (numbers in the text): known from the start
  var computed = {};
  steps.forEach(function (s) { if (s.pass === "forward") computed[s.id] = true; });
  if (data.evaluated) {
    nodes.forEach(function (n) { if (n.op === "const" && !computed[n.id] && n.value_text !== null) mark(n.id, "val", n.value_text); });
  }

  // ---- stepping -------------------------------------------------------------
  var cur = -1, timer = null, current = null;

  function apply(k, on) {
    var s = steps[k], n = nodes[s.id];
    if (s.pass === "forward") mark(s.id, "val", on ? n.value_text : null);
    else mark(s.id, "grad", on ? n.grad_text : null);
  }

  function goTo(k) {
    k = Math.max(-1, Math.min(steps.length - 1, k));
    while (cur < k) apply(++cur, true);
    while (cur > k) apply(cur--, false);
    if (current) current.classList.remove("current");
    current = null;
    var s = steps[cur];
    if (s) {
      current = document.getElementById(data.svg_of[s.id]);
      if (current) { current.classList.add("current"); reveal(current); }
      $("sentence").textContent = s.text.join("\n");
      $("counter").textContent = "step " + (cur + 1) + " of " + steps.length + " · " + s.pass + " pass";
    } else {
      $("sentence").textContent = data.evaluated ? "Press step ▶ (or the right arrow) to run the forward pass, one node at a time."
        : "Structure only: bind every input (NAME=VALUE) to step through the forward and backward passes.";
      $("counter").textContent = steps.length ? "step 0 of " + steps.length : "";
    }
    $("back").disabled = $("reset").disabled = cur < 0;
    $("step").disabled = $("end").disabled = cur >= steps.length - 1;
    $("play").disabled = !steps.length;
    if (cur >= steps.length - 1) pause();
  }

  function play() {
    if (timer !== null || !steps.length) return;
    if (cur >= steps.length - 1) goTo(-1);
    timer = setInterval(function () { goTo(cur + 1); }, 900);
    $("play").textContent = "pause";
    $("play").setAttribute("aria-pressed", "true");
  }

  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    $("play").textContent = "play";
    $("play").setAttribute("aria-pressed", "false");
  }

  // ---- pan and zoom (the SVG's viewBox) ---------------------------------------
  var vb0 = svg.viewBox.baseVal, home = { x: vb0.x, y: vb0.y, w: vb0.width, h: vb0.height }, vb = Object.assign({}, home);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  (function () {  // a small graph is shown at most 1.5 times its natural size
    var s = Math.max(home.w / Math.max(1, svg.clientWidth), home.h / Math.max(1, svg.clientHeight));
    if (s > 0 && s < 1 / 1.5) {
      var w = svg.clientWidth / 1.5, h = svg.clientHeight / 1.5;
      home = { x: home.x - (w - home.w) / 2, y: home.y - (h - home.h) / 2, w: w, h: h };
      vb = Object.assign({}, home);
      setBox();
    } else if (s > 2) {  // a big graph: start at its natural size on the first node, "fit" shows it all
      vb = { x: home.x, y: home.y, w: svg.clientWidth, h: svg.clientHeight };
      setBox();
      var first = document.getElementById(data.svg_of[steps.length ? steps[0].id : 0]);
      if (first) centre(first);
    }
  })();

  function setBox() { svg.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].join(" ")); }

  function scale() {  // viewBox units per screen pixel (preserveAspectRatio meet)
    return Math.max(vb.w / Math.max(1, svg.clientWidth), vb.h / Math.max(1, svg.clientHeight));
  }

  function zoom(f, px, py) {  // about the screen point (px, py) in the svg, default the centre
    var r = svg.getBoundingClientRect(), s = scale();
    if (px === undefined) { px = r.width / 2; py = r.height / 2; }
    var cx = vb.x + vb.w / 2 + (px - r.width / 2) * s, cy = vb.y + vb.h / 2 + (py - r.height / 2) * s;
    var w = Math.min(Math.max(vb.w / f, 20), home.w * 20), h = vb.h * w / vb.w;
    vb = { x: cx - (cx - vb.x) * w / vb.w, y: cy - (cy - vb.y) * h / vb.h, w: w, h: h };
    setBox();
  }

  function reveal(el) {  // pan so that el is on screen
    var r = svg.getBoundingClientRect(), b = el.getBoundingClientRect();
    if (b.left >= r.left && b.right <= r.right && b.top >= r.top && b.bottom <= r.bottom) return;
    centre(el);
  }

  function centre(el) {
    var r = svg.getBoundingClientRect(), b = el.getBoundingClientRect(), s = scale();
    vb.x += ((b.left + b.right) / 2 - (r.left + r.right) / 2) * s;
    vb.y += ((b.top + b.bottom) / 2 - (r.top + r.bottom) / 2) * s;
    setBox();
  }

  var drag = null;
  view.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y, moved: false };
  });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    view.classList.add("dragging");
    var s = scale();
    vb.x = drag.vx - dx * s; vb.y = drag.vy - dy * s;
    setBox();
  });
  window.addEventListener("pointerup", function () {
    view.classList.remove("dragging");
    setTimeout(function () { drag = null; }, 0);
  });
  view.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });

  // ---- the panel -------------------------------------------------------------
  var panel = $("panel"), selected = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function exact(x) { return x === null ? "—" : String(x); }

  function nodeButton(i) {
    var b = el("button", nodes[i].name);
    b.addEventListener("click", function () { showNode(i); });
    return b;
  }

  function select(svgId) {
    if (selected) selected.classList.remove("selected");
    selected = document.getElementById(svgId);
    if (selected) selected.classList.add("selected");
  }

  function showNode(i) {
    var n = nodes[i], dl = el("dl");
    select(data.svg_of[i]);
    panel.textContent = "";
    panel.appendChild(el("h2", n.name));
    function row(term, value, id, cls) {
      dl.appendChild(el("dt", term));
      var dd = el("dd", value, cls);
      if (id) dd.id = id;
      dl.appendChild(dd);
      return dd;
    }
    row("operation", n.op === "var" ? "input" : n.op === "const" ? "constant" : n.op + " (node #" + n.id + ")", "panel-op");
    if (n.formula !== null) row("computes", n.name + " = " + n.formula, "panel-formula");
    if (n.inputs.length) {
      var dd = row("operands", "", "panel-inputs");
      n.inputs.forEach(function (a, k) { if (k) dd.appendChild(document.createTextNode(", ")); dd.appendChild(nodeButton(a)); });
    }
    if (data.evaluated) {
      row("value (forward pass)", exact(n.value), "panel-value", "val");
      row("gradient d" + data.output_name + "/d" + n.name + " (backward pass)", n.grad === null ? "— (depends on no input)" : exact(n.grad),
          "panel-grad", "grad");
    }
    if (n.locals.length) {
      dl.appendChild(el("dt", "local derivatives (with respect to each operand)"));
      var ul = el("ul");
      ul.id = "panel-locals";
      n.locals.forEach(function (t) {
        var text = t.text + " = " + (t.formula && t.formula !== String(t.value) ? t.formula + " = " : "") + exact(t.value);
        ul.appendChild(el("li", text));
      });
      var d2 = el("dd");
      d2.appendChild(ul);
      dl.appendChild(d2);
    }
    panel.appendChild(dl);
  }

  function showChain(k) {
    var run = data.chains[k];
    select("c" + k);
    panel.textContent = "";
    panel.appendChild(el("h2", "chain of " + run.length + " nodes"));
    panel.appendChild(el("p", "Each node has one operand and one use, so the graph draws them as one box. Open one:"));
    var ol = el("ol");
    ol.id = "panel-chain";
    run.forEach(function (i) {
      var li = el("li");
      li.appendChild(nodeButton(i));
      li.appendChild(document.createTextNode(" = " + (nodes[i].formula || "")));
      ol.appendChild(li);
    });
    panel.appendChild(ol);
  }

  svg.addEventListener("click", function (e) {
    if (drag && drag.moved) return;
    var g = e.target.closest("g.node");
    if (!g) return;
    var id = g.getAttribute("id") || "";
    if (id.charAt(0) === "n") showNode(Number(id.slice(1)));
    else if (id.charAt(0) === "x") showNode(Number(id.slice(1).split("_")[0]));  // a copy of an input
    else if (id.charAt(0) === "c") showChain(Number(id.slice(1)));
  });

  // ---- buttons and keys --------------------------------------------------------
  $("step").addEventListener("click", function () { pause(); goTo(cur + 1); });
  $("back").addEventListener("click", function () { pause(); goTo(cur - 1); });
  $("reset").addEventListener("click", function () { pause(); goTo(-1); });
  $("end").addEventListener("click", function () { pause(); goTo(steps.length - 1); });
  $("play").addEventListener("click", function () { if (timer === null) play(); else pause(); });
  $("zoom-in").addEventListener("click", function () { zoom(1.25); });
  $("zoom-out").addEventListener("click", function () { zoom(1 / 1.25); });
  $("fit").addEventListener("click", function () { vb = Object.assign({}, home); setBox(); });
  document.addEventListener("keydown", function (e) {
    if (e.target.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;  // the button's own click
    var k = e.key;
    if (k === "ArrowRight" || k === "ArrowDown") { pause(); goTo(cur + 1); }
    else if (k === "ArrowLeft" || k === "ArrowUp") { pause(); goTo(cur - 1); }
    else if (k === "Home") { pause(); goTo(-1); }
    else if (k === "End") { pause(); goTo(steps.length - 1); }
    else if (k === " ") { if (timer === null) play(); else pause(); }
    else if (k === "+" || k === "=") zoom(1.25);
    else if (k === "-") zoom(1 / 1.25);
    else if (k === "0") { vb = Object.assign({}, home); setBox(); }
    else return;
    e.preventDefault();
  });

  window.cgraphPage = { goTo: goTo, steps: steps.length, current: function () { return cur; } };
  goTo(-1);
})();
