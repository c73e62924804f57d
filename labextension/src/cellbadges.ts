/**
 * Cell badges: in an open notebook, every cell that made runs shows a small badge at the bottom
 * right of its input (run count, the newest run's status in colour, its key metric); a click
 * lists the cell's runs (#seq, status, time, metric), and a click on one of those opens it in
 * the compare tab.
 *
 * One `CellBadges` per notebook panel. It asks `/cells` once per refresh, and `getRun` only for
 * the newest run of each cell (cached once the run has ended); refreshes are debounced, so "Run
 * All" or a burst of change-feed news costs one request. All user strings go through textContent.
 */
import { NotebookPanel } from '@jupyterlab/notebook';

import { IRunSummary, NbtrackApi } from './api';
import { cellBadge, isTracked, keyMetric, runListLine } from './logic';
import { element } from './dom';

/** Wait this long after the last trigger before asking the server. */
const DEBOUNCE_MS = 300;
/** Retries (doubling the delay) while a tracked cell that just ran has no new run in the answer. */
const MAX_RETRIES = 4;
/** At most this many runs are listed (and their metrics fetched) when a badge is clicked. */
const LIST_LIMIT = 20;

type Metric = { key: string; value: unknown } | null;
type Cell = NotebookPanel['content']['widgets'][number];


export interface ICellBadgesOptions {
  api: NbtrackApi;
  /** Open the compare tab for these runs. */
  compare: (runs: IRunSummary[]) => void;
}

/** The badges of one notebook panel. */
export class CellBadges {
  constructor(
    readonly panel: NotebookPanel,
    private readonly options: ICellBadgesOptions
  ) {
    this.onCellsChanged = () => this.render();
    void panel.context.ready.then(() => {
      if (!this.disposed) {
        panel.model?.cells.changed.connect(this.onCellsChanged);
        this.schedule(0);
      }
    });
  }

  /** The notebook's path relative to the server root (what `/cells` resolves). */
  get path(): string {
    return this.panel.context.localPath;
  }

  /** Refresh soon; further calls within the debounce delay are folded into one request. */
  schedule(delay: number = DEBOUNCE_MS): void {
    if (this.disposed) {
      return;
    }
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
    }
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, delay);
  }

  /**
   * A cell of this notebook finished executing: refresh soon, and when it is tracked, keep
   * looking (a few times) until its new run shows up ended: the store may lag the kernel's reply.
   */
  cellExecuted(cell: Cell): void {
    if (cell.model.type === 'code' && isTracked(cell.model.sharedModel.getSource())) {
      const id = cell.model.id;
      this.expected.set(id, (this.runsByCell[id]?.length ?? 0) + 1);
      this.retries = 0;
    }
    this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
    }
    this.panel.model?.cells.changed.disconnect(this.onCellsChanged);
    this.closeList();
    this.removeBadges();
  }

  private async refresh(): Promise<void> {
    const generation = ++this.generation;
    try {
      const answer = await this.options.api.cellRuns(this.path);
      const newest = Object.values(answer.cells)
        .map(runs => runs[0])
        .filter((run): run is IRunSummary => !!run);
      await Promise.all(newest.map(run => this.metricOf(run)));
      if (generation !== this.generation || this.disposed) {
        return; // a newer refresh started meanwhile
      }
      this.runsByCell = answer.cells;
      this.render();
      this.expected.forEach((count, id) => {
        const runs = answer.cells[id] ?? [];
        if (runs.length >= count && String(runs[0].status).toUpperCase() !== 'RUNNING') {
          this.expected.delete(id);
        }
      });
      if (this.expected.size && this.retries < MAX_RETRIES) {
        this.schedule(DEBOUNCE_MS * 2 ** ++this.retries);
      } else {
        this.expected.clear(); // the cell failed before making a run, or was untracked
      }
    } catch (error) {
      // Badges are an extra: keep the last ones and say why in the console only.
      console.warn(`nbtrack: no cell badges for ${this.path}:`, error);
    }
  }

  /** The key metric of a run (from its details), cached once the run has ended. */
  private async metricOf(run: IRunSummary): Promise<Metric> {
    const cached = this.metrics.get(run.run_id);
    if (cached !== undefined) {
      return cached;
    }
    const detail = await this.options.api.getRun(run.run_id).catch(() => null);
    const metric = detail ? keyMetric(detail.metrics) : null;
    if (detail && String(detail.run.status).toUpperCase() !== 'RUNNING') {
      this.metrics.set(run.run_id, metric);
    }
    return metric;
  }

  private removeBadges(): void {
    this.panel.node
      .querySelectorAll('.nbtrack-CellBadge')
      .forEach(node => node.remove());
  }

  /** Put each cell's badge in place (and take stale ones away). */
  private render(): void {
    if (this.disposed) {
      return;
    }
    this.removeBadges();
    for (const cell of this.panel.content.widgets) {
      const runs = this.runsByCell[cell.model.id] ?? [];
      const host = cell.inputArea?.node;
      const summary = cellBadge(runs, this.metrics.get(runs[0]?.run_id) ?? null);
      if (!summary || !host || cell.model.type !== 'code') {
        continue;
      }
      const badge = element('button', 'nbtrack-CellBadge');
      badge.type = 'button';
      badge.dataset.count = String(summary.count);
      badge.dataset.status = summary.status;
      badge.title = summary.title;
      badge.append(
        element('span', 'nbtrack-CellBadge-count', summary.countText),
        element(
          'span',
          `nbtrack-Status nbtrack-Status-${summary.status}`,
          summary.status
        )
      );
      if (summary.metric) {
        badge.appendChild(element('span', 'nbtrack-CellBadge-metric', summary.metric));
      }
      badge.addEventListener('mousedown', event => event.stopPropagation());
      badge.addEventListener('click', event => {
        event.stopPropagation();
        void this.openList(cell, badge, runs);
      });
      host.appendChild(badge);
    }
  }

  /** The popup listing a cell's runs under its badge; a run's metric is fetched on demand. */
  private async openList(cell: Cell, badge: HTMLElement, runs: IRunSummary[]): Promise<void> {
    this.closeList();
    const list = element('div', 'nbtrack-CellRuns');
    list.setAttribute('role', 'menu');
    list.dataset.cellId = cell.model.id;
    const shown = runs.slice(0, LIST_LIMIT);
    const now = Date.now();
    const rows = shown.map(run => {
      const line = runListLine(run, this.metrics.get(run.run_id) ?? null, now);
      const row = element('div', 'nbtrack-CellRuns-run');
      row.setAttribute('role', 'menuitem');
      row.dataset.seq = String(run.seq);
      row.title = `Open run #${run.seq} in the compare tab`;
      const metric = element('span', 'nbtrack-CellRuns-metric', line.metric);
      row.append(
        element('span', 'nbtrack-CellRuns-seq', line.seq),
        element('span', `nbtrack-Status nbtrack-Status-${line.status}`, line.status),
        element('span', 'nbtrack-CellRuns-time', line.time),
        metric
      );
      row.addEventListener('click', () => {
        this.closeList();
        this.options.compare([run]);
      });
      list.appendChild(row);
      return { run, metric };
    });
    if (runs.length > shown.length) {
      list.appendChild(
        element(
          'div',
          'nbtrack-CellRuns-more',
          `and ${runs.length - shown.length} older runs (see the runs sidebar)`
        )
      );
    }
    const rect = badge.getBoundingClientRect();
    list.style.top = `${rect.bottom + 2}px`;
    list.style.right = `${Math.max(0, window.innerWidth - rect.right)}px`;
    document.body.appendChild(list);
    this.list = list;
    const close = (event: Event) => {
      if (
        event instanceof KeyboardEvent
          ? event.key === 'Escape'
          : !list.contains(event.target as Node)
      ) {
        this.closeList();
      }
    };
    document.addEventListener('mousedown', close, true);
    document.addEventListener('keydown', close, true);
    this.unlisten = () => {
      document.removeEventListener('mousedown', close, true);
      document.removeEventListener('keydown', close, true);
    };
    await Promise.all(
      rows.map(async ({ run, metric }) => {
        const value = await this.metricOf(run);
        metric.textContent = runListLine(run, value, now).metric;
      })
    );
  }

  private closeList(): void {
    this.unlisten?.();
    this.unlisten = null;
    this.list?.remove();
    this.list = null;
  }

  private readonly onCellsChanged: () => void;
  private runsByCell: { [cellId: string]: IRunSummary[] } = {};
  /** Cell id -> how many runs it should have once its latest (ended) run is stored. */
  private readonly expected = new Map<string, number>();
  private retries = 0;
  private readonly metrics = new Map<string, Metric>();
  private list: HTMLElement | null = null;
  private unlisten: (() => void) | null = null;
  private timer: number | null = null;
  private generation = 0;
  private disposed = false;
}
