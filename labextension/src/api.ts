/**
 * The one place that talks to nbtrack's REST API (`/nbtrack/api`, served by nbtrack/server).
 *
 * The types mirror nbtrack/server/schemas.py: keep them in step. Requests go through
 * `ServerConnection.makeRequest`, which adds Jupyter's token and XSRF header.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Run statuses as the store writes them. */
export type RunStatus =
  | 'RUNNING'
  | 'FINISHED'
  | 'FAILED'
  | 'INTERRUPTED'
  | 'CRASHED';

/** One row of a run list (schemas.RunSummary). Times are seconds since the epoch. */
export interface IRunSummary {
  run_id: string;
  seq: number;
  name: string | null;
  experiment: string;
  status: RunStatus | string;
  start_time: number;
  end_time: number | null;
  duration: number | null;
  notebook: string | null;
  cell_id: string | null;
  /** "params.lr" / "metrics.acc" / "tags.stage" -> value (only the columns asked for). */
  values: { [column: string]: unknown };
}

/** One page of matching runs (schemas.RunPage). */
export interface IRunPage {
  total: number;
  offset: number;
  runs: IRunSummary[];
  /** "params" / "metrics" / "tags" -> keys present in the matching runs. */
  columns: { [kind: string]: string[] };
  varying: string[];
}

export interface IArtifactEntry {
  name: string;
  mime: string;
  size: number;
  /** Relative to the server's base URL. */
  url: string;
}

export interface IMetricEntry {
  last: number | null;
  last_step: number;
  min: number | null;
  max: number | null;
  count: number;
}

/** Everything about one run (schemas.RunDetail). */
export interface IRunDetail {
  run: IRunSummary;
  params: { [key: string]: unknown };
  metrics: { [key: string]: IMetricEntry };
  tags: { [key: string]: string };
  notes: string[];
  artifacts: IArtifactEntry[];
  source: string | null;
  execution_count: number | null;
  git_commit: string | null;
  git_dirty: boolean | null;
  error: string | null;
  host: string | null;
  user: string | null;
}

/** A metric's points to draw (schemas.Curve). */
export interface ICurve {
  key: string;
  steps: number[];
  values: (number | null)[];
  times: number[];
  total: number;
  exact: boolean;
}

/** Runs created or changed since a cursor (schemas.Changes). */
export interface IChanges {
  cursor: string;
  runs: IRunSummary[];
  deleted: boolean;
}

/** A notebook's runs grouped by cell id, newest first (schemas.CellRuns). */
export interface ICellRuns {
  notebook: string;
  cells: { [cellId: string]: IRunSummary[] };
}

/** A param or tag across compared runs (schemas.ValueRowData). */
export interface IValueRow {
  key: string;
  /** `values[i]` is run i's value if `present[i]`. */
  values: unknown[];
  present: boolean[];
  differs: boolean;
}

/** A metric across compared runs (schemas.MetricRowData): last values, direction, best run(s). */
export interface IMetricRow {
  key: string;
  values: (number | null)[];
  /** Points per run; 0: the run has no such metric. */
  counts: number[];
  direction: 'min' | 'max';
  explicit: boolean;
  best: number[];
}

/** Where the runs ran (schemas.EnvRowData); `group` is run, git or package. */
export interface IEnvRow {
  group: 'run' | 'git' | 'package';
  key: string;
  values: (string | null)[];
  differs: boolean;
}

export interface IImageEntry {
  name: string;
  mime: string;
  /** The artifact endpoint's path (from the server's root). */
  url: string;
}

/** Runs side by side (schemas.ComparisonData), in the order asked. */
export interface IComparison {
  runs: IRunSummary[];
  /** "#12" or "#12 name". */
  labels: string[];
  params: IValueRow[];
  tags: IValueRow[];
  metrics: IMetricRow[];
  code: string[];
  images: IImageEntry[][];
  images_omitted: number[];
  env: IEnvRow[];
}

export interface IDiffLine {
  kind: 'same' | 'add' | 'del';
  text: string;
  old: number | null;
  new: number | null;
}

/** Two runs' code, line by line (schemas.CodeDiff). */
export interface ICodeDiff {
  first: string;
  second: string;
  lines: IDiffLine[];
}

/** Query arguments of `GET /nbtrack/api/runs`. */
export interface IRunQuery {
  filter?: string;
  experiment?: string;
  order_by?: string;
  offset?: number;
  limit?: number;
  columns?: string[];
}

/** A failed request: the server's `{"error": ...}` message and the HTTP status (0: no answer). */
export class NbtrackApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'NbtrackApiError';
  }
}

const API_ROOT = 'nbtrack/api';

/** A typed client of the nbtrack REST API. */
export class NbtrackApi {
  constructor(settings?: ServerConnection.ISettings) {
    this.settings = settings ?? ServerConnection.makeSettings();
  }

  readonly settings: ServerConnection.ISettings;

  /** One page of runs matching `query` (newest first unless `order_by` says otherwise). */
  listRuns(query: IRunQuery = {}): Promise<IRunPage> {
    const params: { [key: string]: string } = {};
    if (query.filter) {
      params.filter = query.filter;
    }
    if (query.experiment) {
      params.experiment = query.experiment;
    }
    if (query.order_by) {
      params.order_by = query.order_by;
    }
    if (query.offset !== undefined) {
      params.offset = String(query.offset);
    }
    if (query.limit !== undefined) {
      params.limit = String(query.limit);
    }
    if (query.columns && query.columns.length) {
      params.columns = query.columns.join(',');
    }
    return this.get<IRunPage>(['runs'], params);
  }

  /** Everything about one run; `ref` is a seq, "#12", a run id or a prefix of one. */
  getRun(ref: string | number): Promise<IRunDetail> {
    return this.get<IRunDetail>(['runs', String(ref)]);
  }

  /** A metric's (downsampled) curve; `start`/`end` are steps. */
  getCurve(
    ref: string | number,
    key: string,
    options: { maxPoints?: number; start?: number; end?: number } = {}
  ): Promise<ICurve> {
    const params: { [key: string]: string } = {};
    if (options.maxPoints !== undefined) {
      params.max_points = String(options.maxPoints);
    }
    if (options.start !== undefined) {
      params.start = String(options.start);
    }
    if (options.end !== undefined) {
      params.end = String(options.end);
    }
    return this.get<ICurve>(['runs', String(ref), 'metrics', key], params);
  }

  /** Runs created or changed since `cursor` ("" the first time). */
  changes(cursor: string): Promise<IChanges> {
    return this.get<IChanges>(['changes'], { since: cursor });
  }

  /** The runs of one notebook, grouped by the cell that made them. */
  cellRuns(notebook: string): Promise<ICellRuns> {
    return this.get<ICellRuns>(['cells'], { notebook });
  }

  /** Runs side by side; `directions` overrides which way is best for some metrics. */
  compare(
    refs: (string | number)[],
    directions: { [key: string]: 'min' | 'max' } = {}
  ): Promise<IComparison> {
    const params: { [key: string]: string } = { runs: refs.join(',') };
    const given = Object.entries(directions).map(([key, way]) => `${key}:${way}`);
    if (given.length) {
      params.directions = given.join(',');
    }
    return this.get<IComparison>(['compare'], params);
  }

  /** Two runs' cell code diffed line by line. */
  diff(first: string | number, second: string | number): Promise<ICodeDiff> {
    return this.get<ICodeDiff>(['diff'], {
      first: String(first),
      second: String(second)
    });
  }

  /** The bytes at a server path the API handed out (an artifact URL), with Jupyter's auth. */
  async blob(path: string): Promise<Blob> {
    const url = new URL(path, this.settings.baseUrl).href;
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, { method: 'GET' }, this.settings);
    } catch (error) {
      throw new NbtrackApiError(
        `nbtrack server unreachable: ${(error as Error).message ?? error}`,
        0
      );
    }
    if (!response.ok) {
      throw new NbtrackApiError(
        `nbtrack server answered ${response.status} for ${path}`,
        response.status
      );
    }
    return response.blob();
  }

  /** The full URL of an API path (segments are URL-encoded) with its query string. */
  url(segments: string[], params: { [key: string]: string } = {}): string {
    const path = URLExt.join(
      this.settings.baseUrl,
      API_ROOT,
      ...segments.map(encodeURIComponent)
    );
    return path + URLExt.objectToQueryString(params);
  }

  private async get<T>(
    segments: string[],
    params: { [key: string]: string } = {}
  ): Promise<T> {
    return this.request<T>(this.url(segments, params), { method: 'GET' });
  }

  private async request<T>(url: string, init: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new NbtrackApiError(
        `nbtrack server unreachable: ${(error as Error).message ?? error}`,
        0
      );
    }
    const text = await response.text();
    let body: any = null;
    let invalid = false;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        invalid = true;
      }
    }
    if (response.ok && (invalid || body === null)) {
      throw new NbtrackApiError(
        `nbtrack server sent no valid JSON for ${url} (status ${response.status})`,
        response.status
      );
    }
    if (!response.ok) {
      const message =
        body && typeof body.error === 'string'
          ? body.error
          : `nbtrack server answered ${response.status} ${response.statusText} for ${url}`;
      throw new NbtrackApiError(message, response.status);
    }
    return body as T;
  }
}
