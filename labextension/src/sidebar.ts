/**
 * The runs sidebar: every run of the store, newest first, live (polls the change feed every
 * few seconds while visible), searchable with the query grammar, grouped by notebook or
 * experiment, with checkboxes to pick runs for the compare tab. All user strings go through
 * textContent.
 */
import { Widget } from '@lumino/widgets';

import {
  IChanges,
  IRunPage,
  IRunSummary,
  NbtrackApi,
  NbtrackApiError
} from './api';
import {
  GroupBy,
  baseName,
  firstMetric,
  formatValue,
  groupRuns,
  relativeTime
} from './logic';
import { element } from './dom';

/** How often the change feed is polled while the sidebar is visible. */
const POLL_MS = 3000;
/** How many runs one list request asks for. */
const PAGE_SIZE = 200;
/** How many metric keys the list asks values for (the first one a run has is shown). */
const METRIC_COLUMNS = 20;

export interface IRunsSidebarOptions {
  api: NbtrackApi;
  /** Open a run's notebook at its cell. */
  openRun: (run: IRunSummary) => void;
  /** Open the compare tab for these runs. */
  compare: (runs: IRunSummary[]) => void;
  /** Told what the change feed reported when runs were created, changed or deleted. */
  changed?: (changes: IChanges) => void;
}


export class RunsSidebar extends Widget {
  constructor(options: IRunsSidebarOptions) {
    super();
    this.api = options.api;
    this.openRun = options.openRun;
    this.compareRuns = options.compare;
    this.changed = options.changed ?? (() => undefined);
    this.addClass('nbtrack-Sidebar');

    const header = element('div', 'nbtrack-Sidebar-header');
    header.appendChild(element('div', 'nbtrack-Sidebar-title', 'nbtrack runs'));

    this.search = element('input', 'nbtrack-Sidebar-search jp-mod-styled');
    this.search.type = 'search';
    this.search.placeholder = 'filter, e.g. metrics.acc > 0.9';
    this.search.setAttribute('aria-label', 'Filter runs');
    this.search.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        void this.refresh();
      }
    });
    this.search.addEventListener('search', () => void this.refresh());
    header.appendChild(this.search);

    const controls = element('div', 'nbtrack-Sidebar-controls');
    const groupLabel = element('label', 'nbtrack-Sidebar-groupLabel', 'Group by ');
    this.groupSelect = element('select', 'nbtrack-Sidebar-groupBy jp-mod-styled');
    for (const [value, label] of [
      ['none', 'nothing'],
      ['notebook', 'notebook'],
      ['experiment', 'experiment']
    ]) {
      const option = element('option', undefined, label);
      option.value = value;
      this.groupSelect.appendChild(option);
    }
    this.groupSelect.addEventListener('change', () => this.render());
    groupLabel.appendChild(this.groupSelect);
    controls.appendChild(groupLabel);

    this.compareButton = element(
      'button',
      'nbtrack-Sidebar-compare jp-mod-styled jp-mod-accept',
      'Compare'
    );
    this.compareButton.addEventListener('click', () => {
      const chosen = this.runs.filter(run => this.selected.has(run.run_id));
      if (chosen.length) {
        this.compareRuns(chosen);
      }
    });
    controls.appendChild(this.compareButton);
    header.appendChild(controls);

    this.errorNode = element('div', 'nbtrack-Sidebar-error');
    this.errorNode.setAttribute('role', 'alert');
    header.appendChild(this.errorNode);

    this.listNode = element('div', 'nbtrack-Sidebar-list');
    this.footer = element('div', 'nbtrack-Sidebar-footer');
    this.node.append(header, this.listNode, this.footer);
    this.updateCompareButton();
  }

  /** The runs shown now (newest first). */
  get shownRuns(): readonly IRunSummary[] {
    return this.runs;
  }

  /** Reload the list with the current filter (and the change cursor the first time). */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    try {
      if (this.cursor === null) {
        this.cursor = (await this.api.changes('')).cursor;
      }
      let page = await this.loadPage();
      const keys = (page.columns.metrics ?? []).slice(0, METRIC_COLUMNS);
      if (keys.join('\n') !== this.metricKeys.join('\n')) {
        this.metricKeys = keys;
        if (keys.length && page.runs.length) {
          page = await this.loadPage();
        }
      }
      if (generation !== this.generation) {
        return; // a newer refresh started meanwhile
      }
      this.page = page;
      this.runs = page.runs;
      const present = new Set(this.runs.map(run => run.run_id));
      this.selected.forEach(id => present.has(id) || this.selected.delete(id));
      this.showError('');
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      this.showError(
        error instanceof NbtrackApiError ? error.message : String(error)
      );
      if (!(error instanceof NbtrackApiError) || error.status !== 400) {
        return; // keep the last list shown
      }
      this.page = null;
      this.runs = [];
    }
    this.render();
  }

  protected onAfterShow(): void {
    void this.refresh();
    this.schedulePoll();
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      void this.refresh();
      this.schedulePoll();
    }
  }

  protected onBeforeHide(): void {
    this.stopPolling();
  }

  protected onBeforeDetach(): void {
    this.stopPolling();
  }

  dispose(): void {
    this.stopPolling();
    super.dispose();
  }

  private loadPage(): Promise<IRunPage> {
    return this.api.listRuns({
      filter: this.search.value.trim(),
      limit: PAGE_SIZE,
      columns: this.metricKeys.map(key => `metrics.${key}`)
    });
  }

  private schedulePoll(): void {
    this.stopPolling();
    this.pollTimer = window.setTimeout(() => void this.poll(), POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) {
      window.clearTimeout(this.pollTimer);
      this.pollTimer = null;
    }
  }

  /** One look at the change feed: reload when runs changed, else just age the times. */
  private async poll(): Promise<void> {
    this.pollTimer = null;
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    try {
      if (this.cursor === null) {
        await this.refresh();
      } else {
        const changes = await this.api.changes(this.cursor);
        this.cursor = changes.cursor;
        if (changes.deleted || changes.runs.length) {
          this.changed(changes);
          await this.refresh();
        } else {
          this.render();
        }
      }
    } catch (error) {
      this.showError(error instanceof Error ? error.message : String(error));
    }
    if (!this.isDisposed && this.isVisible) {
      this.schedulePoll();
    }
  }

  private showError(message: string): void {
    this.errorNode.textContent = message;
    this.errorNode.hidden = !message;
  }

  private updateCompareButton(): void {
    const count = this.selected.size;
    this.compareButton.textContent = count ? `Compare (${count})` : 'Compare';
    this.compareButton.disabled = count === 0;
  }

  /** Redraw the list from `this.runs` (cheap: a few hundred rows at most). */
  private render(): void {
    const now = Date.now();
    const groups = groupRuns(this.runs, this.groupSelect.value as GroupBy);
    const fragment = document.createDocumentFragment();
    for (const group of groups) {
      const section = element('section', 'nbtrack-Sidebar-group');
      if (group.label) {
        const heading = element('div', 'nbtrack-Sidebar-groupHeading', group.label);
        heading.title = group.key;
        heading.appendChild(
          element('span', 'nbtrack-Sidebar-groupCount', ` ${group.runs.length}`)
        );
        section.appendChild(heading);
      }
      for (const run of group.runs) {
        section.appendChild(this.renderRun(run, now));
      }
      fragment.appendChild(section);
    }
    if (!this.runs.length) {
      fragment.appendChild(
        element(
          'div',
          'nbtrack-Sidebar-empty',
          this.errorNode.hidden ? 'No runs yet: add %%track to a cell and run it.' : ''
        )
      );
    }
    this.listNode.replaceChildren(fragment);
    this.footer.textContent = this.page
      ? `${this.runs.length} of ${this.page.total} runs`
      : '';
    this.updateCompareButton();
  }

  private renderRun(run: IRunSummary, now: number): HTMLElement {
    const row = element('div', 'nbtrack-Run');
    row.dataset.runId = run.run_id;
    row.dataset.seq = String(run.seq);
    row.title = [
      run.notebook ? `notebook: ${run.notebook}` : 'no notebook',
      `status: ${run.status}`,
      new Date(run.start_time * 1000).toLocaleString()
    ].join('\n');

    const check = element('input', 'nbtrack-Run-select');
    check.type = 'checkbox';
    check.checked = this.selected.has(run.run_id);
    check.setAttribute('aria-label', `Select run #${run.seq}`);
    check.addEventListener('click', event => event.stopPropagation());
    check.addEventListener('change', () => {
      if (check.checked) {
        this.selected.add(run.run_id);
      } else {
        this.selected.delete(run.run_id);
      }
      row.classList.toggle('nbtrack-mod-selected', check.checked);
      this.updateCompareButton();
    });
    row.classList.toggle('nbtrack-mod-selected', check.checked);

    const main = element('div', 'nbtrack-Run-main');
    const top = element('div', 'nbtrack-Run-line');
    top.appendChild(element('span', 'nbtrack-Run-seq', `#${run.seq}`));
    top.appendChild(element('span', 'nbtrack-Run-name', run.name ?? ''));
    const status = element(
      'span',
      `nbtrack-Status nbtrack-Status-${String(run.status).toLowerCase()}`,
      String(run.status).toLowerCase()
    );
    top.appendChild(status);
    main.appendChild(top);

    const bottom = element('div', 'nbtrack-Run-line nbtrack-Run-details');
    bottom.appendChild(element('span', 'nbtrack-Run-experiment', run.experiment));
    const metric = firstMetric(run, this.metricKeys.length ? this.metricKeys : undefined);
    if (metric) {
      bottom.appendChild(
        element('span', 'nbtrack-Run-metric', `${metric.key} ${formatValue(metric.value)}`)
      );
    }
    bottom.appendChild(
      element('span', 'nbtrack-Run-time', relativeTime(run.start_time, now))
    );
    main.appendChild(bottom);
    if (run.notebook && this.groupSelect.value !== 'notebook') {
      main.appendChild(
        element('div', 'nbtrack-Run-notebook', baseName(run.notebook))
      );
    }

    row.append(check, main);
    row.addEventListener('click', () => this.openRun(run));
    return row;
  }

  private readonly api: NbtrackApi;
  private readonly openRun: (run: IRunSummary) => void;
  private readonly compareRuns: (runs: IRunSummary[]) => void;
  private readonly changed: (changes: IChanges) => void;
  private readonly search: HTMLInputElement;
  private readonly groupSelect: HTMLSelectElement;
  private readonly compareButton: HTMLButtonElement;
  private readonly errorNode: HTMLDivElement;
  private readonly listNode: HTMLDivElement;
  private readonly footer: HTMLDivElement;
  private runs: IRunSummary[] = [];
  private page: IRunPage | null = null;
  private metricKeys: string[] = [];
  private readonly selected = new Set<string>();
  private cursor: string | null = null;
  private pollTimer: number | null = null;
  private generation = 0;
}
