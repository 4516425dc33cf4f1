// Draws an indicator's series with the vendored uPlot (static/vendor/uPlot.iife.min.js): the
// figures per period, the target as a dashed line, the projection as a dotted one. The data
// table under the chart carries the same figures for screen readers, printing and CSV.
(function () {
  "use strict";

  // Dark, distinct strokes (contrast >= 4.5:1 on white); dash patterns tell the lines apart
  // without colour.
  const STYLES = {
    "value-national": { stroke: "#1f4e79", width: 3 },
    "value-central": { stroke: "#1f4e79", width: 3 },
    "value-local": { stroke: "#8a4300", width: 3, dash: [12, 3, 3, 3] },
    target: { stroke: "#222222", width: 2, dash: [10, 6] },
    projection: { stroke: "#6b2c91", width: 2, dash: [2, 5] },
  };

  function formatter(decimal, unit) {
    return (value) => {
      if (value == null) return "–";
      const text = (Math.round(value * 100) / 100).toString();
      return (decimal === "," ? text.replace(".", ",") : text) + unit;
    };
  }

  const MONTH = 31 * 24 * 3600;
  const pad = (min, max) => Math.max(2 * MONTH, (max - min) * 0.06);

  // The value axis spans the figures, the target and the projection with a margin, so that a
  // small series is not flattened against a fixed 0-100 %: from 0 (shares and counts are read
  // from zero) to a little above the highest value, never past 100 for a percentage.
  function fit(values, percent) {
    const low = Math.min(...values);
    const high = Math.max(...values);
    const span = high - Math.min(low, 0) || Math.abs(high) || 1;
    const bottom = low >= 0 ? 0 : low - span * 0.15;
    const top = percent ? Math.min(high + span * 0.15, 100) : high + span * 0.15;
    return [bottom, top > bottom ? top : bottom + 1];
  }

  function draw(holder) {
    const source = document.getElementById(holder.dataset.chart);
    if (!source || typeof uPlot === "undefined") return;
    const chart = JSON.parse(source.textContent);
    const format = formatter(chart.decimal, chart.unit);
    const labelOf = new Map(chart.x.map((x, i) => [x, chart.labels[i]]));
    const series = [{ label: "", value: (u, x) => labelOf.get(x) || "" }];
    for (const s of chart.series) {
      const style = STYLES[s.kind] || STYLES["value-national"];
      series.push({
        label: s.label,
        stroke: style.stroke,
        width: style.width,
        dash: style.dash,
        spanGaps: true,
        value: (u, v) => format(v),
        points: { show: true, size: 9, stroke: style.stroke, fill: "#ffffff" },
      });
    }
    const width = () => Math.max(320, Math.min(holder.clientWidth || 900, 1100));
    const values = chart.series.flatMap((s) => s.values).filter((v) => v != null);
    const range = fit(values, chart.unit === "%");
    holder.dataset.range = range.join(" "); // the value axis drawn, readable without the canvas
    const plot = new uPlot(
      {
        width: width(),
        height: 320,
        series,
        scales: {
          // Padding keeps the first and last points (often the only ones) off the frame.
          x: { time: false, range: (u, min, max) => [min - pad(min, max), max + pad(min, max)] },
          y: { range },
        },
        axes: [
          { splits: () => chart.x, values: (u, splits) => splits.map((x) => labelOf.get(x) || "") },
          { values: (u, splits) => splits.map(format), size: 60 },
        ],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      },
      [chart.x, ...chart.series.map((s) => s.values)],
      holder,
    );
    window.addEventListener("resize", () => plot.setSize({ width: width(), height: 320 }));
    window.addEventListener("beforeprint", () => plot.setSize({ width: 900, height: 320 }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const holder of document.querySelectorAll("[data-chart]")) draw(holder);
  });
})();
