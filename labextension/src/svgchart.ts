/**
 * The geometry of nbtrack's own chart (mimechart.ts draws it): scales, round tick values, an SVG
 * path that breaks at missing values, the point nearest the mouse. Pure functions, no DOM.
 */

/** One small chart of a frozen live chart: metric `key` against steps. */
export interface IChartPanel {
  key: string;
  last: number | null;
  x: number[];
  y: (number | null)[];
}

/** The payload of `application/vnd.nbtrack.chart.v1+json` (nbtrack/ui/figures.py `chart_data`). */
export interface IChartData {
  title: string;
  panels: IChartPanel[];
  /** Keys logged but not drawn (only the first few get a panel). */
  more: number;
}

/** The smallest and largest finite values, or null when there are none. */
export function extent(values: (number | null)[]): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v !== null && Number.isFinite(v)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Round tick values covering [lo, hi] (about `count` of them: steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) {
    return [];
  }
  if (lo === hi) {
    return [lo];
  }
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const error = raw / power; // in [1, 10): round to the nearest of 1, 2, 5, 10 (as d3's ticks)
  const step = power * (error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.SQRT2 ? 2 : 1);
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** A linear map from `domain` onto `range` (a flat domain maps to the range's middle). */
export function scale(
  domain: [number, number],
  range: [number, number]
): (value: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) {
    return () => (r0 + r1) / 2;
  }
  return value => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** An SVG path through the points, lifted at missing or non-finite values. */
export function pathData(
  xs: number[],
  ys: (number | null)[],
  sx: (value: number) => number,
  sy: (value: number) => number
): string {
  const parts: string[] = [];
  let drawing = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) {
      drawing = false;
      continue;
    }
    parts.push(`${drawing ? 'L' : 'M'}${sx(xs[i]).toFixed(1)},${sy(y).toFixed(1)}`);
    drawing = true;
  }
  return parts.join('');
}

/** Index of the point whose x is nearest `x` (xs sorted ascending), or -1 when there is none. */
export function nearestIndex(xs: number[], x: number): number {
  if (!xs.length) {
    return -1;
  }
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
}

/** A number as a short label: 4 significant digits, exponent form when very large or small. */
export function shortNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) {
    return String(value ?? '—');
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(4)));
}
