/**
 * Pure front-end logic (no DOM, no JupyterLab imports) so jest can test it directly:
 * grouping runs, relative times, the `%%track` toggle, paths relative to the server root,
 * locating a run's cell, the side-by-side comparison rows, and what a cell's badge shows.
 */

/** The fields of a run that this module reads (a subset of api.IRunSummary). */
export interface IRunLike {
  run_id: string;
  seq: number;
  experiment: string;
  notebook: string | null;
  start_time: number;
  values: { [column: string]: unknown };
}

export type GroupBy = 'none' | 'notebook' | 'experiment';

export interface IRunGroup<T extends IRunLike> {
  /** The grouping value ('' when the run has none). */
  key: string;
  /** What the group heading shows. */
  label: string;
  runs: T[];
}

/** The last path segment ("a/b/c.ipynb" -> "c.ipynb"), for both separators. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(part => part.length > 0);
  return parts.length ? parts[parts.length - 1] : path;
}

/**
 * Group runs by notebook or experiment, keeping the runs' order inside a group and ordering
 * groups by their first (newest) run; 'none' gives one unlabelled group.
 */
export function groupRuns<T extends IRunLike>(
  runs: T[],
  by: GroupBy
): IRunGroup<T>[] {
  if (by === 'none') {
    return [{ key: '', label: '', runs: runs.slice() }];
  }
  const groups = new Map<string, IRunGroup<T>>();
  for (const run of runs) {
    const key = (by === 'notebook' ? run.notebook : run.experiment) ?? '';
    let group = groups.get(key);
    if (!group) {
      const label =
        by === 'notebook'
          ? key
            ? baseName(key)
            : '(no notebook)'
          : key || '(no experiment)';
      group = { key, label, runs: [] };
      groups.set(key, group);
    }
    group.runs.push(run);
  }
  return Array.from(groups.values());
}

/**
 * "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago", then the date (YYYY-MM-DD).
 * `then` is in seconds since the epoch (as the API sends), `nowMs` in milliseconds.
 */
export function relativeTime(then: number, nowMs: number = Date.now()): string {
  if (!Number.isFinite(then)) {
    return '';
  }
  const seconds = Math.round(nowMs / 1000 - then);
  if (seconds < 5) {
    return 'just now'; // includes small clock skews into the future
  }
  if (seconds < 60) {
    return `${seconds} s ago`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.floor(hours / 24);
  if (days < 30) {
    return `${days} d ago`;
  }
  const date = new Date(then * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

const TRACK_LINE = /^%%track(\s|$)/;

/** Index of the first non-blank line (IPython skips leading blank lines before a cell magic). */
function firstCodeLine(lines: string[]): number {
  let index = 0;
  while (index < lines.length - 1 && lines[index].trim() === '') {
    index++;
  }
  return index;
}

/** Whether a cell's source starts with a `%%track` line (with or without options). */
export function isTracked(source: string): boolean {
  const lines = source.split('\n');
  return TRACK_LINE.test(lines[firstCodeLine(lines)]);
}

/**
 * Add a first line `%%track` to a cell's source, or remove the `%%track ...` line (options
 * included) when it has one, so that toggling twice restores the original code.
 */
export function toggleTrackLine(source: string): string {
  const lines = source.split('\n');
  const first = firstCodeLine(lines);
  if (TRACK_LINE.test(lines[first])) {
    lines.splice(first, 1);
    return lines.join('\n');
  }
  return source === '' ? '%%track\n' : `%%track\n${source}`;
}

function normalisePath(path: string): string {
  let out = path.replace(/\\/g, '/');
  if (out.length > 1) {
    out = out.replace(/\/+$/, '');
  }
  return out;
}

function isAbsolute(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:\//.test(path);
}

/**
 * The path JupyterLab's contents API knows for `path` (a notebook path as the kernel recorded
 * it, usually absolute), given the server's root directory: relative to the root when it is
 * inside it, `path` itself (less a leading "./") when already relative, and null when it lies
 * outside the root (Lab cannot open it).
 */
export function relativeToRoot(path: string, root: string): string | null {
  const target = normalisePath(path);
  if (!isAbsolute(target)) {
    return target.replace(/^(\.\/)+/, '');
  }
  const base = normalisePath(root);
  if (!base || !isAbsolute(base)) {
    return null; // a root like "~/work" cannot be compared in the browser
  }
  const windows = /^[A-Za-z]:\//.test(base);
  const same = (a: string, b: string) =>
    windows ? a.toLowerCase() === b.toLowerCase() : a === b;
  if (base === '/') {
    return target.slice(1);
  }
  if (same(target, base)) {
    return '';
  }
  const prefix = target.slice(0, base.length + 1);
  if (same(prefix, `${base}/`)) {
    return target.slice(base.length + 1);
  }
  return null;
}

/** The first "metrics.<key>" value of a run, in the order of `keys` when given. */
export function firstMetric(
  run: IRunLike,
  keys?: string[]
): { key: string; value: unknown } | null {
  const columns = keys
    ? keys.map(key => `metrics.${key}`)
    : Object.keys(run.values);
  for (const column of columns) {
    if (column.startsWith('metrics.') && column in run.values) {
      return { key: column.slice('metrics.'.length), value: run.values[column] };
    }
  }
  return null;
}

/** A parameter or metric value as a short string (numbers to 4 significant digits). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value)) {
      return String(value);
    }
    if (!Number.isFinite(value)) {
      return String(value);
    }
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) {
      return value.toExponential(3);
    }
    return String(Number(value.toPrecision(4)));
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** The fields of a notebook cell that `findCellIndex` reads. */
export interface ICellLike {
  id: string;
  source: string;
}

/**
 * Index of the cell that made a run: the cell with the run's cell id, else the first cell whose
 * code equals the run's source (ignoring surrounding whitespace), else -1.
 */
export function findCellIndex(
  cells: ICellLike[],
  cellId: string | null,
  source: string | null
): number {
  if (cellId) {
    const byId = cells.findIndex(cell => cell.id === cellId);
    if (byId >= 0) {
      return byId;
    }
  }
  if (source && source.trim()) {
    const wanted = source.trim();
    const bySource = cells.findIndex(cell => cell.source.trim() === wanted);
    if (bySource >= 0) {
      return bySource;
    }
    // The run's source may have been recorded without the %%track line, or with it.
    return cells.findIndex(
      cell =>
        isTracked(cell.source) &&
        toggleTrackLine(cell.source).trim() === wanted
    );
  }
  return -1;
}

/** The fields of a run that a cell badge reads (a subset of api.IRunSummary). */
export interface IBadgeRunLike {
  seq: number;
  status: string;
  start_time: number;
}

/** What a cell's badge shows: run count, last status, last key metric, and its tooltip. */
export interface ICellBadge {
  count: number;
  /** "3 runs" / "1 run". */
  countText: string;
  /** The newest run's status, lower case ("finished"). */
  status: string;
  /** The newest run's key metric as "acc 0.9", or "" when it has none. */
  metric: string;
  title: string;
}

/**
 * The badge of a cell from its runs (newest first, as `/cells` sends them) and the newest run's
 * key metric; null when the cell made no runs (no badge).
 */
export function cellBadge(
  runs: IBadgeRunLike[],
  metric: { key: string; value: unknown } | null
): ICellBadge | null {
  if (!runs.length) {
    return null;
  }
  const last = runs[0];
  const status = String(last.status).toLowerCase();
  const metricText = metric ? `${metric.key} ${formatValue(metric.value)}` : '';
  const countText = runs.length === 1 ? '1 run' : `${runs.length} runs`;
  const title = [
    `${countText} of this cell; last #${last.seq} ${status}`,
    metricText,
    'Click to list them.'
  ]
    .filter(Boolean)
    .join('\n');
  return { count: runs.length, countText, status, metric: metricText, title };
}

/** The key metric of a run's details: its first metric's last value (null when it has none). */
export function keyMetric(metrics: {
  [key: string]: { last: number | null };
}): { key: string; value: unknown } | null {
  const keys = Object.keys(metrics);
  return keys.length ? { key: keys[0], value: metrics[keys[0]].last } : null;
}

/** One line of a cell's run list: "#12", "finished", "5 min ago", "acc 0.9" ("" if unknown). */
export function runListLine(
  run: IBadgeRunLike,
  metric: { key: string; value: unknown } | null,
  nowMs: number = Date.now()
): { seq: string; status: string; time: string; metric: string } {
  return {
    seq: `#${run.seq}`,
    status: String(run.status).toLowerCase(),
    time: relativeTime(run.start_time, nowMs),
    metric: metric ? `${metric.key} ${formatValue(metric.value)}` : ''
  };
}

/**
 * Whether runs from the change feed concern the notebook open at `path` (relative to the
 * server root): runs recorded with that notebook (runs of scripts have none and never do).
 */
export function touchesNotebook(
  runs: { notebook: string | null }[],
  path: string,
  root: string
): boolean {
  const wanted = normalisePath(path).replace(/^(\.\/)+/, '');
  return runs.some(
    run => run.notebook !== null && relativeToRoot(run.notebook, root) === wanted
  );
}
