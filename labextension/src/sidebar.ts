/**
 * The runs sidebar: every run of the store, newest first, live (it follows the shared change
 * feed while visible), searchable with the query grammar, grouped by notebook or experiment, with
 * checkboxes to pick runs for the compare tab. It shows the first 200 matching runs; "Show 200
 * more" adds the next ones. All user strings go through textContent.
 */
import { IDisposable } from '@lumino/disposable';
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
import { ChangeFeed } from './changefeed';
import { element } from './dom';

/** How many runs the list shows at first, and how many more "Show more" adds. */
const PAGE_SIZE = 200;
/** The most runs one list request may ask for (the server's limit). */
const MAX_REQUEST = 1000;
/** How many metric keys the list asks values for (the first one a run has is shown). */
const METRIC_COLUMNS = 20;

export interface IRunsSidebarOptions {
  api: NbtrackApi;
  /** Open a run's notebook at its cell. */
  openRun: (run: IRunSummary) => void;
  /** Open the compare tab for these runs. */
  compare: (runs: IRunSummary[]) => void;
  /** The change feed; the list follows it while the sidebar is visible. */
  feed: ChangeFeed;
}


export class RunsSidebar extends Widget {
  constructor(options: IRunsSidebarOptions) {
    super();
    this.api = options.api;
    this.openRun = options.openRun;
    this.compareRuns = options.compare;
    this.feed = options.feed;
    this.feed.polled.connect(this.onPolled, this);
    this.feed.failed.connect((_, message) => this.isVisible && this.showError(message), this);
    this.addClass('nbtrack-Sidebar');

    const header = element('div', 'nbtrack-Sidebar-header');
    header.appendChild(element('div', 'nbtrack-Sidebar-title', 'nbtrack runs'));

    this.search = element('input', 'nbtrack-Sidebar-search jp-mod-styled');
    this.search.type = 'search';
    this.search.placeholder = 'filter, e.g. metrics.acc > 0.9';
    this.search.setAttribute('aria-label', 'Filter runs');
    this.search.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this.limit = PAGE_SIZE;
        void this.refresh();
      }
    });
    this.search.addEventListener('search', () => {
      this.limit = PAGE_SIZE;
      void this.refresh();
    });
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
    this.footerText = element('span', 'nbtrack-Sidebar-count');
    this.moreButton = element('button', 'nbtrack-Sidebar-more jp-mod-styled', `Show ${PAGE_SIZE} more`);
    this.moreButton.addEventListener('click', () => {
      this.limit += PAGE_SIZE;
      void this.refresh();
    });
    this.footer.append(this.footerText, this.moreButton);
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
      // The metric columns come from the matching runs, so a page may need asking again with them;
      // each refresh uses its own columns (two refreshes at once must not mix theirs).
      const asked = this.metricKeys;
      let page = await this.loadPage(asked);
      const keys = (page.columns.metrics ?? []).slice(0, METRIC_COLUMNS);
      if (keys.join('\n') !== asked.join('\n') && keys.length && page.runs.length) {
        page = await this.loadPage(keys);
      }
      if (generation !== this.generation) {
        return; // a newer refresh started meanwhile
      }
      this.metricKeys = keys;
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
    this.follow();
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      void this.refresh();
      this.follow();
    }
  }

  protected onBeforeHide(): void {
    this.unfollow();
  }

  protected onBeforeDetach(): void {
    this.unfollow();
  }

  dispose(): void {
    this.unfollow();
    super.dispose();
  }

  /** The first `limit` matching runs, in requests of at most MAX_REQUEST. */
  private async loadPage(metricKeys: string[]): Promise<IRunPage> {
    const query = {
      filter: this.search.value.trim(),
      columns: metricKeys.map(key => `metrics.${key}`)
    };
    const page = await this.api.listRuns({ ...query, limit: Math.min(this.limit, MAX_REQUEST) });
    while (page.runs.length < Math.min(this.limit, page.total)) {
      const more = await this.api.listRuns({
        ...query,
        offset: page.runs.length,
        limit: Math.min(this.limit - page.runs.length, MAX_REQUEST)
      });
      if (!more.runs.length) {
        break;
      }
      page.runs.push(...more.runs);
    }
    return page;
  }

  private follow(): void {
    this.holding ??= this.feed.hold();
  }

  private unfollow(): void {
    this.holding?.dispose();
    this.holding = null;
  }

  /** One answer of the change feed: reload when runs changed, else just age the times. */
  private onPolled(_: ChangeFeed, changes: IChanges): void {
    if (this.isDisposed || !this.isVisible) {
      return;
    }
    if (changes.deleted || changes.runs.length) {
      void this.refresh();
    } else {
      this.render();
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
    this.footerText.textContent = this.page
      ? `${this.runs.length} of ${this.page.total} runs`
      : '';
    this.moreButton.hidden = !this.page || this.runs.length >= this.page.total;
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
  private readonly feed: ChangeFeed;
  private holding: IDisposable | null = null;
  private readonly search: HTMLInputElement;
  private readonly groupSelect: HTMLSelectElement;
  private readonly compareButton: HTMLButtonElement;
  private readonly errorNode: HTMLDivElement;
  private readonly listNode: HTMLDivElement;
  private readonly footer: HTMLDivElement;
  private readonly footerText: HTMLSpanElement;
  private readonly moreButton: HTMLButtonElement;
  private limit = PAGE_SIZE;
  private runs: IRunSummary[] = [];
  private page: IRunPage | null = null;
  private metricKeys: string[] = [];
  private readonly selected = new Set<string>();
  private generation = 0;
}
