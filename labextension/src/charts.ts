/**
 * The compare tab's charts as pure functions: data in, Plotly figure JSON out.
 *
 * They mirror nbtrack/ui/figures.py (the inline compare panel's charts): the same palette (one
 * colour per run, one dash style per metric key), the same debiased EMA smoothing, the same axes.
 * User strings (run labels, keys, param values) are escaped (`& < >`) because Plotly renders a
 * subset of HTML in names and labels.
 */

/** Plotly's default qualitative palette: the colour of the i-th compared run, in every chart. */
export const PALETTE = [
  '#636efa',
  '#ef553b',
  '#00cc96',
  '#ab63fa',
  '#ffa15a',
  '#19d3f3',
  '#ff6692',
  '#b6e880',
  '#ff97ff',
  '#fecb52'
];

const DASHES = ['solid', 'dash', 'dot', 'dashdot', 'longdash'];

export type XAxis = 'step' | 'wall' | 'relative';

/** A Plotly figure as JSON (what the Plotly mime renderer draws). */
export interface IFigure {
  data: { [key: string]: unknown }[];
  layout: { [key: string]: unknown };
}

/** One curve: metric `key` of the `run`-th compared run. */
export interface ISeries {
  run: number;
  label: string;
  key: string;
  steps: number[];
  values: (number | null)[];
  /** Seconds since the epoch, one per point. */
  times: number[];
  /** The run's start (seconds since the epoch), for x = relative time. */
  startTime: number;
}

/** A param or tag across the runs (schemas.ValueRowData). */
export interface IValueRowLike {
  key: string;
  values: unknown[];
  present: boolean[];
}

/** A metric across the runs (schemas.MetricRowData). */
export interface IMetricRowLike {
  key: string;
  values: (number | null)[];
  counts: number[];
}

/** The colour of the `index`-th run. */
export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** A user string as Plotly may show it: `& < >` escaped, so no tag can form. */
export function safe(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * Debiased exponential moving average (TensorBoard's smoothing, pandas' `ewm(adjust=True,
 * ignore_na=True)`): missing values keep the last average and do not decay the weights.
 */
export function ema(values: (number | null)[], weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) {
    throw new RangeError(`smoothing must be in [0, 1), got ${weight}`);
  }
  if (weight === 0) {
    return values.slice();
  }
  let numerator = 0;
  let denominator = 0;
  return values.map(value => {
    if (value === null || Number.isNaN(value)) {
      return denominator > 0 ? numerator / denominator : null;
    }
    numerator = numerator * weight + value;
    denominator = denominator * weight + 1;
    return numerator / denominator;
  });
}

/** The x coordinates of a curve: steps, wall-clock times (ISO strings) or seconds since start. */
export function xValues(series: ISeries, x: XAxis): (number | string)[] {
  if (x === 'step') {
    return series.steps;
  }
  if (x === 'relative') {
    return series.times.map(t => t - series.startTime);
  }
  return series.times.map(t => new Date(t * 1000).toISOString());
}

/** Overlaid curves; with `smoothing` each is drawn smoothed over its raw line in a faint tone. */
export function curvesFigure(
  series: ISeries[],
  options: { x?: XAxis; smoothing?: number; logY?: boolean; height?: number } = {}
): IFigure {
  const x = options.x ?? 'step';
  const smoothing = options.smoothing ?? 0;
  const keys = Array.from(new Set(series.map(s => s.key)));
  const data: IFigure['data'] = [];
  for (const s of series) {
    const color = colorOf(s.run);
    const dash = DASHES[keys.indexOf(s.key) % DASHES.length];
    const name = safe(keys.length > 1 ? `${s.label} · ${s.key}` : s.label);
    const common = {
      type: 'scatter',
      x: xValues(s, x),
      mode: 'lines',
      legendgroup: name,
      meta: { run: s.run, key: s.key }
    };
    if (smoothing) {
      data.push({
        ...common,
        y: s.values,
        line: { color, width: 1, dash },
        opacity: 0.25,
        showlegend: false,
        hoverinfo: 'skip'
      });
      data.push({ ...common, y: ema(s.values, smoothing), name, line: { color, dash } });
    } else {
      data.push({ ...common, y: s.values, name, line: { color, dash } });
    }
  }
  const titles = { step: 'step', wall: 'time', relative: 'seconds since start' };
  return {
    data,
    layout: {
      height: options.height ?? 360,
      margin: { l: 50, r: 10, t: 30, b: 40 },
      xaxis: { title: { text: titles[x] }, type: x === 'wall' ? 'date' : 'linear' },
      yaxis: {
        title: { text: keys.length === 1 ? safe(keys[0]) : 'value' },
        type: options.logY ? 'log' : 'linear'
      },
      legend: { orientation: 'h', y: -0.2 },
      uirevision: 'nbtrack'
    }
  };
}

/** A param value as a chart axis takes it: lists and dicts as their JSON text. */
function scalar(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

function asNumber(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : null;
  }
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return null;
}

/** One parallel-coordinates axis: numeric when every value is a number, else labelled codes. */
export function dimension(label: string, values: unknown[]): { [key: string]: unknown } {
  const present = values.map(scalar).filter(v => v !== null && v !== undefined);
  if (present.every(v => asNumber(v) !== null)) {
    return { label: safe(label), values: values.map(v => asNumber(scalar(v))) };
  }
  const labels = Array.from(new Set(present.map(String))).sort();
  return {
    label: safe(label),
    values: values.map(v => {
      const s = scalar(v);
      return s === null || s === undefined ? null : labels.indexOf(String(s));
    }),
    tickvals: labels.map((_, i) => i),
    ticktext: labels.map(safe)
  };
}

/** Parallel coordinates of `params` (the ones that vary) against `metric`, coloured by the metric. */
export function parallelFigure(params: IValueRowLike[], metric: IMetricRowLike): IFigure {
  const dimensions = params.map(row =>
    dimension(
      row.key,
      row.values.map((v, i) => (row.present[i] ? v : null))
    )
  );
  dimensions.push({ label: safe(metric.key), values: metric.values });
  return {
    data: [
      {
        type: 'parcoords',
        dimensions,
        line: { color: metric.values, colorscale: 'Viridis', showscale: true }
      }
    ],
    layout: { height: 360, margin: { l: 60, r: 60, t: 50, b: 30 } }
  };
}

/** One point per run: `param` (x) against `metric` (y), labelled with the run's number. */
export function scatterFigure(
  seqs: number[],
  param: IValueRowLike,
  metric: IMetricRowLike
): IFigure {
  const xs = param.values.map((v, i) => {
    if (!param.present[i]) {
      return null;
    }
    const s = scalar(v);
    return typeof s === 'number' ? s : safe(s);
  });
  return {
    data: [
      {
        type: 'scatter',
        x: xs,
        y: metric.values,
        mode: 'markers+text',
        text: seqs.map(seq => safe(`#${seq}`)),
        textposition: 'top center',
        marker: { size: 10, color: seqs.map((_, i) => colorOf(i)) }
      }
    ],
    layout: {
      height: 320,
      margin: { l: 50, r: 10, t: 30, b: 40 },
      xaxis: { title: { text: safe(param.key) } },
      yaxis: { title: { text: safe(metric.key) } }
    }
  };
}

/** Metric keys worth drawing as curves: those with more than one point in some run (else all). */
export function curveKeys(metrics: IMetricRowLike[]): string[] {
  const curves = metrics.filter(m => Math.max(0, ...m.counts) > 1).map(m => m.key);
  return curves.length ? curves : metrics.map(m => m.key);
}

/** The keys drawn first: a loss if there is one, else the first key. */
export function defaultCurveKeys(keys: string[]): string[] {
  const losses = keys.filter(k => k.toLowerCase().includes('loss'));
  return (losses.length ? losses : keys).slice(0, 1);
}

/** The metric most runs have a value of (the first such, by name). */
export function defaultMetric(metrics: IMetricRowLike[]): string | null {
  let best: string | null = null;
  let most = -1;
  for (const m of metrics) {
    const known = m.values.filter(v => v !== null && Number.isFinite(v)).length;
    if (known > most) {
      best = m.key;
      most = known;
    }
  }
  return best;
}

/** The step range a zoomed chart shows, or null for "the whole curves" (autorange, or all of it). */
export function zoomedSteps(
  event: { [key: string]: unknown },
  extent: [number, number] | null
): [number, number] | null | undefined {
  if (event['xaxis.autorange'] === true) {
    return null;
  }
  let range: unknown[] | undefined;
  if (Array.isArray(event['xaxis.range'])) {
    range = event['xaxis.range'] as unknown[];
  } else if ('xaxis.range[0]' in event && 'xaxis.range[1]' in event) {
    range = [event['xaxis.range[0]'], event['xaxis.range[1]']];
  }
  if (!range) {
    return undefined; // not a change of the x range (legend click, y zoom...)
  }
  const lo = Math.floor(Number(range[0]));
  const hi = Math.ceil(Number(range[1]));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    return undefined;
  }
  if (extent && lo <= extent[0] && hi >= extent[1]) {
    return null;
  }
  return [lo, hi];
}
