/*
 * Gradient explorer: how the bound on a gradient sent back T-k steps, (gamma * lambda)^(T-k),
 * shrinks or blows up, beside what a real tanh network measures.  Plain JavaScript, no
 * library and no server: it runs in the page.
 *
 * It attaches only to elements like
 *   <div id="gradient-explorer" class="gradient-explorer" data-gamma="1"
 *        data-measured='{"lambdas": [0.5, ...], "measured": [[1, ...], ...]}'></div>
 * (data-gamma: bound on the activation's derivative, 1 for tanh; optional data-lambda and
 * data-lag set the starting values).  Two sliders (largest singular value lambda of the
 * recurrent weight matrix, lag T-k) redraw an SVG plot of log10((gamma*lambda)^(T-k)) against T-k
 * (dashed) and a readout of the number.  data-measured, optional, is written by the
 * vanishing-gradients chapter when the book is built: for each lambda of a grid, the mean
 * norm of dh_T/dh_k of a tanh network for T-k = 0, 1, ...; the lambda slider then steps
 * through that grid and the measured curve is drawn solid beside the bound.  As in the book,
 * k is the earlier step and T-k the lag (its notation page).
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var LAG_MAX = 100; // largest lag on the slider and the plot
  var Y_MIN = -12; // plot range, in powers of ten
  var Y_MAX = 12;

  function bound(gamma, lambda, lag) {
    return Math.pow(gamma * lambda, lag);
  }

  var SUPERSCRIPT = { "0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074", "5": "\u2075",
    "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079", "-": "\u207b", "k": "\u1d4f", "T": "\u1d40" };

  function sup(text) {
    return String(text).split("").map(function (c) { return SUPERSCRIPT[c] || c; }).join("");
  }

  function formatNumber(x) {
    if (!isFinite(x)) return "more than 10" + sup(308);
    if (x === 0) return "0";
    if (x >= 0.001 && x < 10000) return x.toPrecision(3);
    var exp = Math.floor(Math.log10(x));
    var mant = x / Math.pow(10, exp);
    if (mant >= 9.995) { mant = 1; exp += 1; } // 9.999e-6 shows as 1.00 x 10^-5, not 10.00 x 10^-6
    return mant.toFixed(2) + " \u00d7 10" + sup(exp);
  }

  function el(tag, attrs, ns) {
    var node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function slider(root, id, text, min, max, step, value) {
    var row = el("div", { "class": "ge-row" });
    var label = el("label", { "for": id });
    label.textContent = text;
    var input = el("input", { type: "range", id: id, min: min, max: max, step: step, value: value });
    var shown = el("output", { "for": id, "class": "ge-value" });
    row.appendChild(label);
    row.appendChild(input);
    row.appendChild(shown);
    root.appendChild(row);
    return { input: input, shown: shown };
  }

  function logOf(v) {
    return v > 0 ? Math.log10(v) : Y_MIN - 1; // a norm that underflowed to 0 sits below the plot
  }

  function attach(root, index) {
    if (root.dataset.geAttached) return;
    root.dataset.geAttached = "1";
    var gamma = parseFloat(root.dataset.gamma || "1");
    if (!(gamma > 0)) gamma = 1;
    var suffix = index ? "-" + index : "";
    var data = null; // measured curves, if the chapter passed them
    try {
      data = root.dataset.measured ? JSON.parse(root.dataset.measured) : null;
    } catch (e) {
      data = null;
    }
    if (data && !(data.lambdas && data.lambdas.length > 1 && data.measured && data.measured.length === data.lambdas.length)) {
      data = null;
    }
    var lamMin = data ? data.lambdas[0] : 0.5;
    var lamMax = data ? data.lambdas[data.lambdas.length - 1] : 1.5;
    var lamStep = data ? (lamMax - lamMin) / (data.lambdas.length - 1) : 0.01;

    var controls = el("div", { "class": "ge-controls" });
    var lam = slider(controls, "ge-lambda" + suffix, "Largest singular value \u03bb\u2081 of the recurrent weights",
      String(lamMin), String(lamMax), String(Math.round(lamStep * 1000) / 1000), root.dataset.lambda || "0.9");
    var lag = slider(controls, "ge-lag" + suffix, "Lag T \u2212 k (steps back in time)",
      "1", String(LAG_MAX), "1", root.dataset.lag || "20");
    root.appendChild(controls);

    var readout = el("p", { "class": "ge-readout", "aria-live": "polite" });
    root.appendChild(readout);

    // Drawing units match screen pixels up to 600 px wide, so labels stay legible on a
    // phone; the axes are redrawn when the figure's width changes (rotation, resizing).
    var W = 0, H = 300, L = 56, R = 12, T = 12, B = 40;
    var svg = el("svg", { "class": "ge-plot", role: "img" }, SVG_NS);
    var title = el("title", {}, SVG_NS);
    var curve = el("polyline", { "class": "ge-curve", fill: "none", "stroke-dasharray": "9 6" }, SVG_NS);
    var measuredCurve = el("polyline", { "class": "ge-curve ge-measured", fill: "none",
      style: "stroke: var(--pst-color-secondary)" }, SVG_NS);
    var marker = el("circle", { r: 6, "class": "ge-marker" }, SVG_NS);
    var measuredMarker = el("circle", { r: 5, "class": "ge-measured-marker",
      style: "fill: var(--pst-color-secondary); stroke: var(--pst-color-text-base); stroke-width: 1.5" }, SVG_NS);
    if (data) marker.setAttribute("style", "fill: var(--pst-color-primary)"); // the bound's color; orange is measured
    var legend = el("text", { "class": "ge-tick", "text-anchor": "end" }, SVG_NS);
    legend.textContent = data ? "dashed: bound (\u03b3\u03bb\u2081)" + sup("T-k") + "   solid: measured, tanh network" :
      "the bound (\u03b3\u03bb\u2081)" + sup("T-k");
    root.appendChild(svg);
    function xs(lagValue) { return L + (W - L - R) * lagValue / LAG_MAX; }
    function ys(e) { return T + (H - T - B) * (Y_MAX - Math.max(Y_MIN, Math.min(Y_MAX, e))) / (Y_MAX - Y_MIN); }

    function drawAxes() {
      var width = Math.round(Math.min(600, Math.max(300, root.clientWidth - 34)));
      if (width === W) return false;
      W = width;
      H = W < 480 ? 260 : 300;
      svg.setAttribute("viewBox", "0 0 " + W + " " + H);
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      svg.appendChild(title);
      // Grid: powers of ten every 4, lags every 20.
      for (var e = Y_MIN; e <= Y_MAX; e += 4) {
        svg.appendChild(el("line", { x1: L, x2: W - R, y1: ys(e), y2: ys(e), "class": e === 0 ? "ge-one" : "ge-grid" }, SVG_NS));
        var t = el("text", { x: L - 6, y: ys(e) + 4, "text-anchor": "end", "class": "ge-tick" }, SVG_NS);
        t.textContent = "1e" + e;
        svg.appendChild(t);
      }
      for (var tick = 0; tick <= LAG_MAX; tick += 20) {
        var tx = el("text", { x: xs(tick), y: H - B + 16, "text-anchor": "middle", "class": "ge-tick" }, SVG_NS);
        tx.textContent = String(tick);
        svg.appendChild(tx);
      }
      var xlabel = el("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "class": "ge-tick" }, SVG_NS);
      xlabel.textContent = "lag T \u2212 k";
      svg.appendChild(xlabel);
      legend.setAttribute("x", W - R - 4);
      legend.setAttribute("y", T + 14);
      svg.appendChild(legend);
      if (data) svg.appendChild(measuredCurve);
      svg.appendChild(curve);
      if (data) svg.appendChild(measuredMarker);
      svg.appendChild(marker);
      return true;
    }
    drawAxes();

    function nearest(l) {
      var best = 0;
      for (var i = 1; i < data.lambdas.length; i++) {
        if (Math.abs(data.lambdas[i] - l) < Math.abs(data.lambdas[best] - l)) best = i;
      }
      return best;
    }

    function update() {
      var l = parseFloat(lam.input.value);
      var stepsBack = parseInt(lag.input.value, 10);
      lam.shown.textContent = l.toFixed(2);
      lag.shown.textContent = String(stepsBack);
      var g = gamma * l;
      var pts = [];
      for (var j = 0; j <= LAG_MAX; j++) {
        pts.push(xs(j).toFixed(1) + "," + ys(j * Math.log10(g)).toFixed(1));
      }
      curve.setAttribute("points", pts.join(" "));
      var value = bound(gamma, l, stepsBack);
      marker.setAttribute("cx", xs(stepsBack).toFixed(1));
      marker.setAttribute("cy", ys(stepsBack * Math.log10(g)).toFixed(1));
      var trend = g < 1 ? "shrinks (vanishes)" : (g > 1 ? "grows (explodes)" : "stays the same");
      var text = "Bound on the gradient's size " + stepsBack + " steps back: (\u03b3\u03bb\u2081)" + sup("T-k") + " = (" +
        gamma + " \u00d7 " + l.toFixed(2) + ")" + sup(stepsBack) + " = " + formatNumber(value) +
        ". With \u03b3\u03bb\u2081 " + (g < 1 ? "below" : (g > 1 ? "above" : "equal to")) + " 1, it " + trend + " as the lag grows.";
      var plotTitle = "Plot of the bound (\u03b3\u03bb\u2081)" + sup("T-k") + " against the lag T \u2212 k on a log scale; at T \u2212 k = " + stepsBack +
        " it is " + formatNumber(value);
      if (data) {
        var row = nearest(l);
        var measured = data.measured[row];
        var mpts = [];
        for (var m = 0; m < measured.length && m <= LAG_MAX; m++) {
          mpts.push(xs(m).toFixed(1) + "," + ys(logOf(measured[m])).toFixed(1));
        }
        measuredCurve.setAttribute("points", mpts.join(" "));
        var mv = stepsBack < measured.length ? measured[stepsBack] : NaN;
        measuredMarker.setAttribute("cx", xs(stepsBack).toFixed(1));
        measuredMarker.setAttribute("cy", ys(logOf(mv)).toFixed(1));
        text += " Measured in a tanh network with \u03bb\u2081 = " + data.lambdas[row].toFixed(2) + ": " + formatNumber(mv) + ".";
        plotTitle += "; the measured norm of a tanh network is " + formatNumber(mv);
        readout.dataset.measured = String(mv);
      }
      readout.textContent = text;
      readout.dataset.value = String(value);
      title.textContent = plotTitle + ".";
    }
    lam.input.addEventListener("input", update);
    lag.input.addEventListener("input", update);
    if (window.ResizeObserver) {
      new ResizeObserver(function () { if (drawAxes()) update(); }).observe(root);
    }
    update();
  }

  function init() {
    var roots = document.querySelectorAll("#gradient-explorer, .gradient-explorer");
    Array.prototype.forEach.call(roots, attach);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  window.rnnbookGradientBound = bound; // for tests and curious readers
})();
