// Time-series and bar charts: a thin preact wrapper around uPlot. The chart is
// made once per shape (series names, scales, kind) and fed new data with
// setData, so live updates do not rebuild it; it follows its box's width.
import { html, useEffect, useRef, uPlot } from './vendor.js';

const AXIS = { stroke: '#55606e', grid: { stroke: '#e3e7ec', width: 1 }, ticks: { stroke: '#e3e7ec' } };

// series: [{label, color, scale ('y' or another name for a right-hand axis), fmt}]
// data: [xs, ys...] as uPlot wants it (xs in Unix seconds when time is true).
export function Chart({ title, series, data, height = 220, bars = false, time = true, summary, xFmt }) {
  const box = useRef(null);
  const plot = useRef(null);
  const shape = JSON.stringify([series.map((s) => [s.label, s.scale || 'y']), bars, time, height]);

  useEffect(() => {
    const scales = [...new Set(series.map((s) => s.scale || 'y'))];
    const opts = {
      width: Math.max(box.current.clientWidth, 200),
      height,
      /* one sample would make uPlot spread the axis over years: give it a minute each side */
      scales: { x: { time, range: (u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) }, ...Object.fromEntries(scales.map((k) => [k, { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] }])) },
      series: [
        { label: time ? 'Time' : 'x', value: xFmt ? (u, v) => (v == null ? '—' : xFmt(v)) : undefined },
        ...series.map((s) => ({
          label: s.label,
          scale: s.scale || 'y',
          stroke: s.color,
          fill: bars ? s.color + 'cc' : s.color + '22',
          width: bars ? 1 : 2,
          points: { show: false },
          paths: bars ? uPlot.paths.bars({ size: [0.7, 64] }) : undefined,
          value: (u, v) => (v == null ? '—' : s.fmt ? s.fmt(v) : String(v)),
        })),
      ],
      axes: [
        { ...AXIS, values: xFmt ? (u, vals) => vals.map(xFmt) : undefined },
        ...scales.map((k, i) => {
          const s = series.find((x) => (x.scale || 'y') === k);
          return { ...AXIS, scale: k, side: i === 0 ? 3 : 1, size: 84, grid: { show: i === 0, ...AXIS.grid },
            values: (u, vals) => vals.map((v) => (s.fmt ? s.fmt(v) : v)) };
        }),
      ],
      legend: { live: false },
    };
    plot.current = new uPlot(opts, data, box.current);
    let width = box.current.clientWidth;
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        if (!plot.current || !box.current) return;
        const w = Math.max(box.current.clientWidth, 200);
        if (w !== width) { width = w; plot.current.setSize({ width: w, height }); }
      });
    });
    ro.observe(box.current);
    return () => { ro.disconnect(); cancelAnimationFrame(frame); plot.current.destroy(); plot.current = null; };
  }, [shape]);

  useEffect(() => { if (plot.current) plot.current.setData(data); }, [data]);

  return html`<figure class="chart">
    <figcaption>${title}${summary ? html`<span class="chart-summary"> · ${summary}</span>` : null}</figcaption>
    <div class="chart-box" ref=${box} role="img" aria-label=${summary ? `${title}: ${summary}` : title}></div>
  </figure>`;
}

// Power (W) and energy (Wh) series from OCPP sampled values. Power comes from
// Power.Active.Import (the total, or the phases added up); energy from
// Energy.Active.Import.Register relative to the session's meter start (or
// the first reading). Units kW/kWh
// are scaled to W/Wh.
export function meterSeries(values, meterStartWh) {
  const byTime = new Map();
  for (const v of values || []) {
    const t = Math.round(new Date(v.timestamp).getTime() / 1000);
    if (!Number.isFinite(t)) continue;
    const num = Number(v.value);
    if (!Number.isFinite(num)) continue;
    const m = v.measurand || 'Energy.Active.Import.Register';
    const k = /^k/.test(v.unit || '') ? 1000 : 1;
    const row = byTime.get(t) || { power: null, phases: 0, phaseSum: 0, energy: null };
    if (m === 'Power.Active.Import') {
      if (v.phase && /^L[123]/.test(v.phase)) { row.phases++; row.phaseSum += num * k; } else if (!v.phase) row.power = num * k;
    } else if (m === 'Energy.Active.Import.Register' && (!v.phase || v.phase === 'N')) {
      row.energy = num * k;
    }
    byTime.set(t, row);
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const xs = [], power = [], energy = [];
  let first = Number.isFinite(meterStartWh) ? meterStartWh : null;
  for (const t of times) {
    const r = byTime.get(t);
    const p = r.power !== null ? r.power : r.phases ? r.phaseSum : null;
    if (r.energy !== null && first === null) first = r.energy;
    if (p === null && r.energy === null) continue;
    xs.push(t);
    power.push(p);
    energy.push(r.energy !== null ? r.energy - first : null);
  }
  return [xs, power, energy];
}
