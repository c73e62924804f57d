/**
 * The compare tab (main area, id `nbtrack-compare`): the chosen runs side by side — their
 * params, then their metrics (last value) — with the rows where they differ marked.
 * Curves come later. All user strings go through textContent.
 */
import { Widget } from '@lumino/widgets';

import { IRunDetail, IRunSummary, NbtrackApi, NbtrackApiError } from './api';
import { ICompareRow, compareRows, formatValue } from './logic';

export class CompareView extends Widget {
  constructor(api: NbtrackApi) {
    super();
    this.api = api;
    this.addClass('nbtrack-Compare');
  }

  /** Load and show these runs (replacing what was shown). */
  async load(runs: IRunSummary[]): Promise<void> {
    const generation = ++this.generation;
    this.node.replaceChildren(
      element('div', 'nbtrack-Compare-loading', `Loading ${runs.length} runs…`)
    );
    let details: IRunDetail[];
    try {
      details = await Promise.all(runs.map(run => this.api.getRun(run.run_id)));
    } catch (error) {
      if (generation === this.generation) {
        const message =
          error instanceof NbtrackApiError ? error.message : String(error);
        this.node.replaceChildren(element('div', 'nbtrack-Compare-error', message));
      }
      return;
    }
    if (generation === this.generation) {
      this.render(details);
    }
  }

  private render(details: IRunDetail[]): void {
    const table = element('table', 'nbtrack-Compare-table');
    const head = element('thead');
    const headRow = element('tr');
    headRow.appendChild(element('th', undefined, ''));
    for (const detail of details) {
      const th = element('th', 'nbtrack-Compare-run');
      th.dataset.runId = detail.run.run_id;
      th.appendChild(element('div', 'nbtrack-Compare-seq', `#${detail.run.seq}`));
      th.appendChild(element('div', 'nbtrack-Compare-name', detail.run.name ?? ''));
      th.appendChild(
        element('div', 'nbtrack-Compare-experiment', detail.run.experiment)
      );
      th.appendChild(
        element(
          'span',
          `nbtrack-Status nbtrack-Status-${String(detail.run.status).toLowerCase()}`,
          String(detail.run.status).toLowerCase()
        )
      );
      headRow.appendChild(th);
    }
    head.appendChild(headRow);
    table.appendChild(head);

    const params = compareRows(details.map(detail => detail.params));
    const metrics = compareRows(
      details.map(detail => {
        const last: { [key: string]: unknown } = {};
        for (const [key, entry] of Object.entries(detail.metrics)) {
          last[key] = entry.last;
        }
        return last;
      })
    );
    const durations = details.map(detail => detail.run.duration);
    const body = element('tbody');
    this.section(body, 'Params', params, details.length);
    this.section(body, 'Metrics (last value)', metrics, details.length);
    this.section(
      body,
      'Run',
      [
        {
          key: 'duration (s)',
          cells: durations.map(formatValue),
          differs: new Set(durations).size > 1
        }
      ],
      details.length
    );
    table.appendChild(body);
    this.node.replaceChildren(table);
  }

  private section(
    body: HTMLElement,
    title: string,
    rows: ICompareRow[],
    width: number
  ): void {
    const heading = element('tr', 'nbtrack-Compare-section');
    const cell = element('th', undefined, title);
    cell.colSpan = width + 1;
    heading.appendChild(cell);
    body.appendChild(heading);
    if (!rows.length) {
      const empty = element('tr', 'nbtrack-Compare-empty');
      const td = element('td', undefined, 'none');
      td.colSpan = width + 1;
      empty.appendChild(td);
      body.appendChild(empty);
    }
    for (const row of rows) {
      const tr = element('tr', row.differs ? 'nbtrack-mod-differs' : undefined);
      tr.dataset.key = row.key;
      tr.appendChild(element('th', 'nbtrack-Compare-key', row.key));
      for (const value of row.cells) {
        tr.appendChild(element('td', undefined, value));
      }
      body.appendChild(tr);
    }
  }

  private readonly api: NbtrackApi;
  private generation = 0;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
