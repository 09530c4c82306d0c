"use strict";
// A small SVG line chart of one pixel's time series: one line per band, a point per date
// (data-time, data-band and data-value hold the exact numbers), gaps where a value is null.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#1b7837", "#2166ac", "#b2182b", "#762a83"];
  const W = 310, H = 170, M = {left: 44, right: 10, top: 10, bottom: 34};

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, anchor) {
    const node = el("text", {x, y, "text-anchor": anchor || "middle"}, parent);
    node.textContent = content;
    return node;
  }

  function label(value) {
    return Math.abs(value) >= 1000 || (value !== 0 && Math.abs(value) < 0.01)
      ? value.toExponential(2) : String(Number(value.toPrecision(3)));
  }

  // series: [{time: ISO, values: [number|null]}], bands: [name], current: index or null
  function render(container, series, bands, current) {
    container.replaceChildren();
    const times = series.map((s) => Date.parse(s.time));
    const numbers = series.flatMap((s) => s.values.filter((v) => v !== null));
    const svg = el("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img"}, container);
    if (numbers.length === 0) {
      text(svg, W / 2, H / 2, "no data at this pixel");
      return svg;
    }
    let low = Math.min(...numbers), high = Math.max(...numbers);
    if (high === low) { const pad = Math.abs(low) * 0.1 || 0.1; low -= pad; high += pad; }
    const pad = (high - low) * 0.08; low -= pad; high += pad;
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const x = (t) => t1 === t0 ? (M.left + W - M.right) / 2
      : M.left + (t - t0) / (t1 - t0) * (W - M.left - M.right);
    const y = (v) => H - M.bottom - (v - low) / (high - low) * (H - M.top - M.bottom);
    for (const v of [low + pad, (low + high) / 2, high - pad]) {
      el("line", {class: "grid", x1: M.left, x2: W - M.right, y1: y(v), y2: y(v)}, svg);
      text(svg, M.left - 4, y(v) + 3, label(v), "end");
    }
    el("line", {class: "axis", x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom}, svg);
    el("line", {class: "axis", x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom}, svg);
    const step = Math.max(1, Math.ceil(series.length / 4));
    series.forEach((s, i) => {
      if (i % step === 0 || i === series.length - 1) {
        const anchor = series.length === 1 ? "middle"
          : i === 0 ? "start" : i === series.length - 1 ? "end" : "middle";
        text(svg, x(times[i]), H - M.bottom + 14, s.time.slice(0, 10), anchor);
      }
    });
    if (current !== null && current !== undefined && series[current]) {
      el("line", {class: "now", x1: x(times[current]), x2: x(times[current]),
                  y1: M.top, y2: H - M.bottom}, svg);
    }
    bands.forEach((band, b) => {
      const color = COLORS[b % COLORS.length];
      let d = "", pen = "M";
      series.forEach((s, i) => {
        const v = s.values[b];
        if (v === null) { pen = "M"; return; }
        d += `${pen}${x(times[i]).toFixed(1)},${y(v).toFixed(1)} `;
        pen = "L";
      });
      if (d) el("path", {class: "line", d, stroke: color}, svg);
      series.forEach((s, i) => {
        const v = s.values[b];
        if (v === null) return;
        const dot = el("circle", {cx: x(times[i]), cy: y(v), r: i === current ? 4 : 3, fill: color,
                                  "data-time": s.time, "data-band": band,
                                  "data-value": String(v)}, svg);
        el("title", {}, dot).textContent = `${s.time.slice(0, 10)} ${band}: ${v}`;
      });
    });
    if (bands.length > 1) {
      bands.forEach((band, b) => {
        const node = text(svg, M.left + 6 + b * 70, H - 4, band, "start");
        node.setAttribute("fill", COLORS[b % COLORS.length]);
      });
    }
    return svg;
  }

  window.OnDemandChart = {render};
})();
