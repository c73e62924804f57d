/**
 * The compare tab (main area, id `nbtrack-compare`): the chosen runs side by side, with the views
 * of the inline compare panel (`nbtrack.compare`) — Params & metrics, Curves, Parallel, Scatter,
 * Code, Images, Environment. Tables come from `GET /nbtrack/api/compare` (comparepages.ts), curves
 * from the metric endpoint (downsampled; zooming with x = step reads the visible steps again, exact
 * when they fit, and a double click goes back to the whole curves), charts are drawn by Plotly
 * (plot.ts) from the pure builders of charts.ts. A page's chart is drawn when the page is first shown.
 * While the tab is visible it follows the change feed: when a compared run changes (a running one
 * logs more points, ends), the tab reads the runs again and redraws the page shown.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IDisposable } from '@lumino/disposable';
import { Panel, TabPanel, Widget } from '@lumino/widgets';

import { IChanges, IComparison, IRunSummary, NbtrackApi, NbtrackApiError } from './api';
import { ChangeFeed } from './changefeed';
import {
  ISeries,
  XAxis,
  colorOf,
  curveKeys,
  curvesFigure,
  defaultCurveKeys,
  defaultMetric,
  parallelFigure,
  scatterFigure,
  zoomedSteps
} from './charts';
import {
  diffView,
  envTable,
  imagesView,
  metricsTable,
  runsTable,
  valuesTable
} from './comparepages';
import { element } from './dom';
import { PlotlyChart } from './plot';

/** The pages, in tab order: [CSS suffix, title] (the inline panel's seven tabs). */
const PAGES = [
  ['params', 'Params & metrics'],
  ['curves', 'Curves'],
  ['parallel', 'Parallel'],
  ['scatter', 'Scatter'],
  ['code', 'Code'],
  ['images', 'Images'],
  ['env', 'Environment']
] as const;
type PageName = (typeof PAGES)[number][0];

const X_AXES: [XAxis, string][] = [
  ['step', 'step'],
  ['wall', 'wall time'],
  ['relative', 'relative time']
];
const MAX_POINTS = 2000;

export interface ICompareOptions {
  api: NbtrackApi;
  /** Draws the charts (through jupyterlab-plotly); without it the charts say why they are missing. */
  rendermime: IRenderMimeRegistry | null;
  /** Followed while the tab is visible, to redraw when a compared run changes. */
  feed?: ChangeFeed;
}

export class CompareView extends Panel {
  constructor(options: ICompareOptions) {
    super();
    this.api = options.api;
    this.feed = options.feed ?? null;
    this.feed?.polled.connect(this.onPolled, this);
    this.addClass('nbtrack-Compare');
    this.header = new Widget();
    this.header.addClass('nbtrack-Compare-header');
    this.tabs = new TabPanel();
    this.tabs.addClass('nbtrack-Compare-tabs');
    for (const [name, title] of PAGES) {
      const page = new Panel();
      page.addClass('nbtrack-Compare-page');
      page.addClass(`nbtrack-Compare-page-${name}`);
      page.title.label = title;
      page.title.className = `nbtrack-Compare-tab-${name}`;
      const controls = new Widget();
      controls.addClass('nbtrack-Compare-controls');
      page.addWidget(controls);
      this.pages[name] = page;
      this.controls[name] = controls;
      this.tabs.addWidget(page);
    }
    for (const name of ['curves', 'parallel', 'scatter'] as const) {
      this.charts[name] = new PlotlyChart(options.rendermime);
      this.pages[name].addWidget(this.charts[name]);
    }
    this.tabs.currentChanged.connect(() => this.showCurrent());
    this.addWidget(this.header);
    this.addWidget(this.tabs);
  }

  /** The comparison shown (null while loading or after an error). */
  get data(): IComparison | null {
    return this.comparison;
  }

  /** Load and show these runs, replacing what was shown. */
  async load(runs: (IRunSummary | string)[]): Promise<void> {
    this.refs = runs.map(run => (typeof run === 'string' ? run : run.run_id));
    this.directions = {};
    this.curve = { ...this.curve, keys: null, steps: null, extent: null };
    await this.refresh();
  }

  /** Read the runs again (new points, tags, a changed direction). */
  async reload(): Promise<void> {
    await this.refresh();
  }

  protected onAfterShow(): void {
    this.holding ??= this.feed?.hold() ?? null;
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      this.holding ??= this.feed?.hold() ?? null;
    }
  }

  protected onBeforeHide(): void {
    this.holding?.dispose();
    this.holding = null;
  }

  protected onBeforeDetach(): void {
    this.holding?.dispose();
    this.holding = null;
  }

  dispose(): void {
    this.holding?.dispose();
    this.holding = null;
    super.dispose();
  }

  /** A compared run changed (or runs were deleted): read them again. */
  private onPolled(_: ChangeFeed, changes: IChanges): void {
    const shown = new Set((this.comparison?.runs ?? []).map(run => run.run_id));
    if (this.isVisible && (changes.deleted || changes.runs.some(run => shown.has(run.run_id)))) {
      void this.reload();
    }
  }

  private async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.setHeader(`Loading ${this.refs.length} runs…`);
    let data: IComparison;
    try {
      data = await this.api.compare(this.refs, this.directions);
    } catch (error) {
      if (generation === this.generation) {
        this.comparison = null;
        const message = error instanceof NbtrackApiError ? error.message : String(error);
        this.setHeader(message, 'nbtrack-Compare-error');
      }
      return;
    }
    if (generation !== this.generation) {
      return;
    }
    this.comparison = data;
    this.drawn.clear();
    this.curveSeries = null;
    this.renderHeader(data);
    this.renderTables(data);
    this.showCurrent();
  }

  private setHeader(text: string, className = 'nbtrack-Compare-loading'): void {
    this.header.node.replaceChildren(element('div', className, text));
  }

  private renderHeader(data: IComparison): void {
    const chips = element('div', 'nbtrack-Compare-chips');
    data.runs.forEach((run, i) => {
      const chip = element('div', 'nbtrack-Compare-chip');
      chip.dataset.runId = run.run_id;
      chip.style.borderColor = colorOf(i);
      const status = String(run.status).toLowerCase();
      chip.append(
        element('span', 'nbtrack-Compare-seq', `#${run.seq}`),
        element('span', 'nbtrack-Compare-name', run.name ?? ''),
        element('span', 'nbtrack-Compare-experiment', run.experiment),
        element('span', `nbtrack-Status nbtrack-Status-${status}`, status)
      );
      chips.appendChild(chip);
    });
    const reload = element('button', 'nbtrack-Compare-reload jp-mod-styled', 'Reload');
    reload.title = 'read the runs again';
    reload.addEventListener('click', () => void this.reload());
    this.header.node.replaceChildren(chips, reload);
  }

  /** The pages that are tables (no chart), and every page's controls. */
  private renderTables(data: IComparison): void {
    this.renderParams(data);
    this.renderCurveControls(data);
    this.renderParallelControls(data);
    this.renderScatterControls(data);
    this.renderCode(data);
    this.controls.images.node.replaceChildren(imagesView(data, this.api));
    this.renderEnv(data);
  }

  private renderParams(data: IComparison): void {
    if (this.diffOnly === null) {
      this.diffOnly = data.runs.length > 1;
    }
    const toggle = checkbox('nbtrack-Compare-diffOnly', 'params: differences only', this.diffOnly);
    toggle.input.addEventListener('change', () => {
      this.diffOnly = toggle.input.checked;
      this.renderParams(data);
    });
    const parts: HTMLElement[] = [
      runsTable(data),
      toggle.label,
      valuesTable(data.params, data.labels, 'params', this.diffOnly),
      metricsTable(data.metrics, data.labels, (key, direction) => {
        this.directions[key] = direction;
        void this.reload();
      })
    ];
    if (data.tags.length) {
      parts.push(valuesTable(data.tags, data.labels, 'tags', this.diffOnly));
    }
    this.controls.params.node.replaceChildren(...parts);
  }

  private renderEnv(data: IComparison): void {
    const toggle = checkbox('nbtrack-Compare-allPackages', 'all packages', this.allPackages);
    toggle.input.addEventListener('change', () => {
      this.allPackages = toggle.input.checked;
      this.renderEnv(data);
    });
    this.controls.env.node.replaceChildren(
      toggle.label,
      envTable(data.env, data.labels, this.allPackages)
    );
  }

  private renderCode(data: IComparison): void {
    const choices = data.labels.map((label, i) => [String(i), label] as [string, string]);
    this.codeRuns = [
      Math.min(this.codeRuns[0], data.runs.length - 1),
      Math.min(this.codeRuns[1], data.runs.length - 1)
    ];
    const first = select('nbtrack-Compare-codeFirst', '−', choices, String(this.codeRuns[0]));
    const second = select('nbtrack-Compare-codeSecond', '+', choices, String(this.codeRuns[1]));
    const view = element('div', 'nbtrack-Compare-diffView');
    const show = () => {
      this.codeRuns = [Number(first.select.value), Number(second.select.value)];
      const [a, b] = this.codeRuns;
      this.api
        .diff(data.runs[a].run_id, data.runs[b].run_id)
        .then(diff => view.replaceChildren(diffView(diff, data.labels[a], data.labels[b])))
        .catch(error => view.replaceChildren(element('div', 'nbtrack-Compare-error', String(error.message ?? error))));
    };
    first.select.addEventListener('change', show);
    second.select.addEventListener('change', show);
    const bar = element('div', 'nbtrack-Compare-bar');
    bar.append(first.label, second.label);
    this.controls.code.node.replaceChildren(bar, view);
    show();
  }

  // -- charts -------------------------------------------------------------------------------------
  private showCurrent(): void {
    const page = this.tabs.currentWidget;
    const name = PAGES.find(([n]) => this.pages[n] === page)?.[0];
    if (!this.comparison || !name || this.drawn.has(name)) {
      return;
    }
    this.drawn.add(name);
    if (name === 'curves') {
      void this.drawCurves(true);
    } else if (name === 'parallel') {
      void this.drawParallel();
    } else if (name === 'scatter') {
      void this.drawScatter();
    }
  }

  private renderCurveControls(data: IComparison): void {
    const keys = curveKeys(data.metrics);
    const chosen = (this.curve.keys ?? defaultCurveKeys(keys)).filter(k => keys.includes(k));
    this.curve.keys = chosen.length ? chosen : defaultCurveKeys(keys);
    const list = element('div', 'nbtrack-Compare-curveKeys');
    for (const key of keys) {
      const box = checkbox('nbtrack-Compare-curveKey', key, this.curve.keys.includes(key));
      box.label.dataset.key = key;
      box.input.addEventListener('change', () => {
        const picked = new Set(this.curve.keys);
        box.input.checked ? picked.add(key) : picked.delete(key);
        this.curve.keys = keys.filter(k => picked.has(k));
        void this.drawCurves(true);
      });
      list.appendChild(box.label);
    }
    const xAxis = select('nbtrack-Compare-x', 'x', X_AXES, this.curve.x);
    xAxis.select.addEventListener('change', () => {
      this.curve.x = xAxis.select.value as XAxis;
      void this.drawCurves(false);
    });
    const smoothing = element('input', 'nbtrack-Compare-smoothing');
    Object.assign(smoothing, { type: 'range', min: '0', max: '0.99', step: '0.01' });
    smoothing.value = String(this.curve.smoothing);
    const shown = element('span', 'nbtrack-Compare-smoothingValue', String(this.curve.smoothing));
    smoothing.addEventListener('input', () => (shown.textContent = smoothing.value));
    smoothing.addEventListener('change', () => {
      this.curve.smoothing = Number(smoothing.value);
      void this.drawCurves(false);
    });
    const smoothingLabel = element('label', 'nbtrack-Compare-field', 'smoothing ');
    smoothingLabel.append(smoothing, shown);
    const logY = checkbox('nbtrack-Compare-logY', 'log y', this.curve.logY);
    logY.input.addEventListener('change', () => {
      this.curve.logY = logY.input.checked;
      void this.drawCurves(false);
    });
    const bar = element('div', 'nbtrack-Compare-bar');
    bar.append(xAxis.label, smoothingLabel, logY.label);
    this.curveStatus = element('div', 'nbtrack-Compare-curveStatus');
    const note = keys.length ? [] : [element('div', 'nbtrack-Compare-note', 'These runs logged no metrics.')];
    this.controls.curves.node.replaceChildren(list, bar, this.curveStatus, ...note);
  }

  /** Draw the chosen curves; `fetch` reads them again (new keys or step range). */
  private async drawCurves(fetch: boolean): Promise<void> {
    const data = this.comparison;
    if (!data) {
      return;
    }
    const generation = ++this.curveGeneration;
    if (fetch || !this.curveSeries) {
      const [start, end] = this.curve.steps ?? [undefined, undefined];
      const wanted: { run: number; key: string }[] = [];
      for (const key of this.curve.keys ?? []) {
        const row = data.metrics.find(m => m.key === key);
        data.runs.forEach((_, run) => row && row.counts[run] > 0 && wanted.push({ run, key }));
      }
      this.curveStatus?.replaceChildren(element('span', 'nbtrack-Compare-note', 'Loading curves…'));
      try {
        const curves = await Promise.all(
          wanted.map(w =>
            this.api.getCurve(data.runs[w.run].run_id, w.key, { maxPoints: MAX_POINTS, start, end })
          )
        );
        if (generation !== this.curveGeneration) {
          return;
        }
        this.curveSeries = curves.map((curve, i) => ({
          series: {
            run: wanted[i].run,
            label: data.labels[wanted[i].run],
            key: curve.key,
            steps: curve.steps,
            values: curve.values,
            times: curve.times,
            startTime: data.runs[wanted[i].run].start_time
          },
          total: curve.total,
          exact: curve.exact
        }));
      } catch (error) {
        const message = error instanceof NbtrackApiError ? error.message : String(error);
        this.curveStatus?.replaceChildren(element('span', 'nbtrack-Compare-error', message));
        return;
      }
      if (this.curve.steps === null) {
        const spans = this.curveSeries.filter(c => c.series.steps.length).map(c => c.series.steps);
        this.curve.extent = spans.length
          ? [Math.min(...spans.map(s => s[0])), Math.max(...spans.map(s => s[s.length - 1]))]
          : null;
      }
    }
    const series: ISeries[] = (this.curveSeries ?? []).map(c => c.series);
    this.curveStatus?.replaceChildren(element('span', 'nbtrack-Compare-note', this.curveText()));
    if (!series.length) {
      this.charts.curves.clear();
      return;
    }
    const figure = curvesFigure(series, {
      x: this.curve.x,
      smoothing: this.curve.smoothing,
      logY: this.curve.logY
    });
    await this.charts.curves.draw(figure, event => this.zoomed(event));
  }

  private curveText(): string {
    const curves = this.curveSeries ?? [];
    if (!(this.curve.keys ?? []).length) {
      return 'Choose one or more metrics.';
    }
    const logged = curves.reduce((n, c) => n + c.total, 0);
    const shown = curves.reduce((n, c) => n + c.series.steps.length, 0);
    const where = this.curve.steps ? `steps ${this.curve.steps[0]}–${this.curve.steps[1]}` : 'all steps';
    if (curves.every(c => c.exact)) {
      return `${where}: all ${logged.toLocaleString('en-US')} points`;
    }
    const hint = this.curve.x === 'step' ? ', zoom in for exact points' : '';
    return `${where}: ${shown.toLocaleString('en-US')} of ${logged.toLocaleString('en-US')} points (downsampled${hint})`;
  }

  /** A zoom (x = step) reads the visible steps again; autorange reads the whole curves. */
  private zoomed(event: { [key: string]: unknown }): void {
    if (this.curve.x !== 'step') {
      return;
    }
    const steps = zoomedSteps(event, this.curve.extent);
    if (steps === undefined || JSON.stringify(steps) === JSON.stringify(this.curve.steps)) {
      return;
    }
    this.curve.steps = steps;
    void this.drawCurves(true);
  }

  private renderParallelControls(data: IComparison): void {
    const metrics = data.metrics.map(m => [m.key, m.key] as [string, string]);
    this.parallelMetric = pick(this.parallelMetric, metrics, defaultMetric(data.metrics));
    const metric = select('nbtrack-Compare-parallelMetric', 'metric', metrics, this.parallelMetric ?? '');
    metric.select.addEventListener('change', () => {
      this.parallelMetric = metric.select.value;
      void this.drawParallel();
    });
    this.parallelNote = element('div', 'nbtrack-Compare-note');
    this.controls.parallel.node.replaceChildren(metric.label, this.parallelNote);
  }

  private async drawParallel(): Promise<void> {
    const data = this.comparison;
    if (!data) {
      return;
    }
    const varying = data.params.filter(p => p.differs);
    const metric = data.metrics.find(m => m.key === this.parallelMetric);
    if (!metric || !varying.length) {
      const why = metric ? 'no param that differs between the runs' : 'no metrics';
      this.parallelNote!.textContent = `Nothing to draw: ${why}.`;
      this.charts.parallel.clear();
      return;
    }
    this.parallelNote!.textContent = '';
    await this.charts.parallel.draw(parallelFigure(varying, metric));
  }

  private renderScatterControls(data: IComparison): void {
    const params = [...data.params.filter(p => p.differs), ...data.params.filter(p => !p.differs)].map(
      p => [p.key, p.key] as [string, string]
    );
    const metrics = data.metrics.map(m => [m.key, m.key] as [string, string]);
    this.scatterParam = pick(this.scatterParam, params, params.length ? params[0][0] : null);
    this.scatterMetric = pick(this.scatterMetric, metrics, defaultMetric(data.metrics));
    const param = select('nbtrack-Compare-scatterParam', 'param', params, this.scatterParam ?? '');
    const metric = select('nbtrack-Compare-scatterMetric', 'metric', metrics, this.scatterMetric ?? '');
    param.select.addEventListener('change', () => {
      this.scatterParam = param.select.value;
      void this.drawScatter();
    });
    metric.select.addEventListener('change', () => {
      this.scatterMetric = metric.select.value;
      void this.drawScatter();
    });
    const bar = element('div', 'nbtrack-Compare-bar');
    bar.append(param.label, metric.label);
    this.scatterNote = element('div', 'nbtrack-Compare-note');
    this.controls.scatter.node.replaceChildren(bar, this.scatterNote);
  }

  private async drawScatter(): Promise<void> {
    const data = this.comparison;
    if (!data) {
      return;
    }
    const param = data.params.find(p => p.key === this.scatterParam);
    const metric = data.metrics.find(m => m.key === this.scatterMetric);
    if (!param || !metric) {
      this.scatterNote!.textContent = `Nothing to draw: ${param ? 'no metrics' : 'no params'}.`;
      this.charts.scatter.clear();
      return;
    }
    this.scatterNote!.textContent = '';
    await this.charts.scatter.draw(scatterFigure(data.runs.map(r => r.seq), param, metric));
  }

  private readonly api: NbtrackApi;
  private readonly feed: ChangeFeed | null;
  private holding: IDisposable | null = null;
  private readonly header: Widget;
  private readonly tabs: TabPanel;
  private readonly pages = {} as Record<PageName, Panel>;
  private readonly controls = {} as Record<PageName, Widget>;
  private readonly charts = {} as Record<'curves' | 'parallel' | 'scatter', PlotlyChart>;
  private readonly drawn = new Set<PageName>();
  private refs: string[] = [];
  private directions: { [key: string]: 'min' | 'max' } = {};
  private comparison: IComparison | null = null;
  private generation = 0;
  private diffOnly: boolean | null = null;
  private allPackages = false;
  private codeRuns: [number, number] = [0, 1];
  private curve: {
    keys: string[] | null;
    x: XAxis;
    smoothing: number;
    logY: boolean;
    steps: [number, number] | null;
    extent: [number, number] | null;
  } = { keys: null, x: 'step', smoothing: 0, logY: false, steps: null, extent: null };
  private curveSeries: { series: ISeries; total: number; exact: boolean }[] | null = null;
  private curveGeneration = 0;
  private curveStatus: HTMLElement | null = null;
  private parallelMetric: string | null = null;
  private parallelNote: HTMLElement | null = null;
  private scatterParam: string | null = null;
  private scatterMetric: string | null = null;
  private scatterNote: HTMLElement | null = null;
}

/** The current choice if it is still offered, else `fallback`. */
function pick(current: string | null, options: [string, string][], fallback: string | null): string | null {
  return current !== null && options.some(([value]) => value === current) ? current : fallback;
}

function checkbox(className: string, text: string, checked: boolean) {
  const label = element('label', `nbtrack-Compare-field ${className}`);
  const input = element('input');
  input.type = 'checkbox';
  input.checked = checked;
  label.append(input, document.createTextNode(` ${text}`));
  return { label, input };
}

function select(className: string, text: string, options: [string, string][], value: string) {
  const label = element('label', 'nbtrack-Compare-field', `${text} `);
  const node = element('select', className);
  for (const [optionValue, optionText] of options) {
    const option = element('option', undefined, optionText);
    option.value = optionValue;
    node.appendChild(option);
  }
  node.value = value;
  label.appendChild(node);
  return { label, select: node };
}
