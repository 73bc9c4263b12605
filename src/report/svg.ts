// Minimal SVG line and bar charts for the reports (no dependencies, readable in any browser or on GitHub).

/** `dash`: an SVG stroke-dasharray ("6 4"); solid without it. */
export interface Series { name: string; points: [number, number][]; color?: string; dash?: string }

export const DASHED = '6 4';

/** Right margin that fits the longest legend entry (about 7 px a character at 12 px). */
function legendWidth(names: string[]): number {
  return 52 + 7 * Math.max(0, ...names.map((n) => n.length));
}

/** `width`: of the plot and axes, the legend comes on top of it. */
export interface ChartOptions { title: string; xLabel: string; yLabel: string; width?: number; height?: number; logX?: boolean }

export const PALETTE = ['#d1495b', '#00798c', '#edae49', '#66a182', '#2e4057', '#8d96a3'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round tick values spanning [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e12) return `${+(v / 1e12).toPrecision(3)}T`;
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

interface Margins { l: number; r: number; t: number; b: number }

/** Canvas, title and axis lines shared by both chart kinds. */
function frame(W: number, H: number, m: Margins, o: ChartOptions): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
  ];
}

/** Y grid lines with their values, and both axis labels. */
function yAxis(parts: string[], W: number, H: number, m: Margins, o: ChartOptions, y0: number, y1: number, sy: (y: number) => number): void {
  for (const v of ticks(y0, y1)) {
    const Y = sy(v);
    parts.push(`<line x1="${m.l - 4}" y1="${Y}" x2="${W - m.r}" y2="${Y}" stroke="#eee"/><text x="${m.l - 6}" y="${Y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
}

export interface BarSeries { name: string; values: number[] }

/** Grouped bars: one group per category, one bar per series, y from 0. */
export function barChart(categories: string[], series: BarSeries[], o: ChartOptions): string {
  const m = { l: 64, r: legendWidth(series.map((x) => x.name)), t: 36, b: 96 };
  const W = (o.width ?? 560) + m.r;
  const H = o.height ?? 400;
  const y1 = Math.max(...series.flatMap((s) => s.values).filter(Number.isFinite), 1e-9) * 1.05;
  const sy = (y: number) => H - m.b - (y / y1) * (H - m.t - m.b);
  const parts = frame(W, H, m, o);
  yAxis(parts, W, H, m, o, 0, y1, sy);
  const groupW = (W - m.l - m.r) / categories.length;
  const barW = (groupW * 0.8) / series.length;
  categories.forEach((c, g) => {
    const gx = m.l + g * groupW + groupW * 0.1;
    series.forEach((s, i) => {
      const v = s.values[g];
      if (Number.isFinite(v)) parts.push(`<rect x="${(gx + i * barW).toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(H - m.b - sy(v)).toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"/>`);
    });
    const cx = gx + groupW * 0.4;
    parts.push(`<text transform="translate(${cx.toFixed(1)} ${H - m.b + 12}) rotate(30)" text-anchor="start">${esc(c)}</text>`);
  });
  series.forEach((s, i) => {
    const ly = m.t + 10 + i * 18;
    parts.push(`<rect x="${W - m.r + 12}" y="${ly - 6}" width="22" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${W - m.r + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function lineChart(series: Series[], o: ChartOptions): string {
  const m = { l: 64, r: legendWidth(series.map((x) => x.name)), t: 36, b: 48 };
  const W = (o.width ?? 460) + m.r;
  const H = o.height ?? 380;
  const tx = (x: number) => (o.logX ? Math.log10(x) : x);
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y));
  const xs = pts.map(([x]) => tx(x));
  const ys = pts.map(([, y]) => y);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => m.l + ((tx(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts = frame(W, H, m, o);
  const xt = o.logX ? ticks(x0, x1).map((v) => 10 ** v) : ticks(x0, x1);
  for (const v of xt) {
    const X = sx(v);
    if (X < m.l - 1 || X > W - m.r + 1) continue;
    parts.push(`<line x1="${X}" y1="${H - m.b}" x2="${X}" y2="${H - m.b + 4}" stroke="#333"/><text x="${X}" y="${H - m.b + 16}" text-anchor="middle">${fmt(v)}</text>`);
  }
  yAxis(parts, W, H, m, o, y0, y1, sy);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const p = s.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    if (p.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${p.join(' ')}"/>`);
    for (const q of p) parts.push(`<circle cx="${q.split(',')[0]}" cy="${q.split(',')[1]}" r="2.5" fill="${color}"/>`);
    const ly = m.t + 10 + i * 18;
    parts.push(`<line x1="${W - m.r + 12}" y1="${ly}" x2="${W - m.r + 34}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${W - m.r + 40}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
