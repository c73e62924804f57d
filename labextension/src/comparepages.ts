/**
 * The compare tab's tables as DOM, built from the server's comparison (api.IComparison): the runs,
 * params and tags (differing values marked), metrics (best run starred, direction choosable), the
 * code diff, the images and the environment. Mirrors nbtrack/ui/static.py, the inline panel's
 * tables. Every user string goes in through textContent (dom.element).
 */
import { ICodeDiff, IComparison, IEnvRow, IMetricRow, IValueRow, NbtrackApi } from './api';
import { colorOf } from './charts';
import { element } from './dom';
import { formatValue, relativeTime } from './logic';

const MISSING = '—';

/** A table head: an empty corner, then each run's label with its colour. */
function head(labels: string[], corner = ''): HTMLTableSectionElement {
  const thead = element('thead');
  const row = element('tr');
  row.appendChild(element('th', 'nbtrack-Compare-corner', corner));
  labels.forEach((label, i) => {
    const th = element('th', 'nbtrack-Compare-run');
    const swatch = element('span', 'nbtrack-Compare-swatch');
    swatch.style.background = colorOf(i);
    th.append(swatch, element('span', 'nbtrack-Compare-label', label));
    row.appendChild(th);
  });
  thead.appendChild(row);
  return thead;
}

function table(className: string, labels: string[], corner = ''): HTMLTableElement {
  const node = element('table', `nbtrack-Compare-table ${className}`);
  node.appendChild(head(labels, corner));
  node.appendChild(element('tbody'));
  return node;
}

function keyCell(key: string): HTMLTableCellElement {
  return element('th', 'nbtrack-Compare-key', key);
}

/** The runs' facts: experiment, status, start, duration, notebook. */
export function runsTable(data: IComparison): HTMLTableElement {
  const node = table('nbtrack-Compare-runs', data.labels);
  const body = node.tBodies[0];
  const rows: [string, (i: number) => HTMLElement | string][] = [
    ['experiment', i => data.runs[i].experiment],
    [
      'status',
      i => {
        const status = String(data.runs[i].status).toLowerCase();
        return element('span', `nbtrack-Status nbtrack-Status-${status}`, status);
      }
    ],
    ['started', i => relativeTime(data.runs[i].start_time)],
    ['duration', i => formatDuration(data.runs[i].duration)],
    ['notebook', i => data.runs[i].notebook ?? MISSING]
  ];
  for (const [key, cell] of rows) {
    const tr = element('tr');
    tr.dataset.key = key;
    tr.appendChild(keyCell(key));
    data.runs.forEach((_, i) => {
      const td = element('td');
      td.append(cell(i));
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  return node;
}

/** Seconds as "850 ms", "12.3 s", "4 min 5 s" or "2 h 3 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return MISSING;
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${Number(seconds.toPrecision(3))} s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  }
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/**
 * Params (or tags) side by side: rows whose values differ are marked, and so is each value that
 * differs from the first run's. With `diffOnly` only the differing rows show.
 */
export function valuesTable(
  rows: IValueRow[],
  labels: string[],
  what: 'params' | 'tags',
  diffOnly: boolean
): HTMLElement {
  const box = element('div', `nbtrack-Compare-values nbtrack-Compare-${what}`);
  const shown = diffOnly ? rows.filter(row => row.differs) : rows;
  if (!rows.length) {
    box.appendChild(element('div', 'nbtrack-Compare-note', `No ${what}.`));
    return box;
  }
  const node = table(`nbtrack-Compare-${what}Table`, labels, what);
  for (const row of shown) {
    const tr = element('tr', row.differs ? 'nbtrack-mod-differs' : undefined);
    tr.dataset.key = row.key;
    tr.appendChild(keyCell(row.key));
    const texts = row.values.map((v, i) => (row.present[i] ? formatValue(v) : MISSING));
    texts.forEach(text => {
      tr.appendChild(
        element('td', row.differs && text !== texts[0] ? 'nbtrack-mod-changed' : undefined, text)
      );
    });
    node.tBodies[0].appendChild(tr);
  }
  box.appendChild(node);
  const same = rows.length - shown.length;
  if (same) {
    const noun = same === 1 ? 'more has' : 'more have';
    box.appendChild(
      element('div', 'nbtrack-Compare-note', `${same} ${noun} the same value in every run.`)
    );
  }
  return box;
}

/** Last metric values, the best run(s) starred; `choose` sets a metric's direction. */
export function metricsTable(
  rows: IMetricRow[],
  labels: string[],
  choose: (key: string, direction: 'min' | 'max') => void
): HTMLElement {
  const box = element('div', 'nbtrack-Compare-values nbtrack-Compare-metrics');
  if (!rows.length) {
    box.appendChild(element('div', 'nbtrack-Compare-note', 'No metrics.'));
    return box;
  }
  const node = table('nbtrack-Compare-metricsTable', labels, 'metrics (last value)');
  node.tHead!.rows[0].insertBefore(element('th', undefined, 'best is'), null);
  for (const row of rows) {
    const tr = element('tr');
    tr.dataset.key = row.key;
    tr.appendChild(keyCell(row.key));
    row.values.forEach((value, i) => {
      const best = row.best.includes(i);
      const td = element('td', best ? 'nbtrack-mod-best' : undefined);
      td.appendChild(element('span', 'nbtrack-Compare-value', formatValue(value)));
      if (best) {
        td.appendChild(element('span', 'nbtrack-Compare-star', ' ★'));
      }
      if (row.counts[i] > 1) {
        td.title = `${row.counts[i]} points logged`;
      }
      tr.appendChild(td);
    });
    const cell = element('td', 'nbtrack-Compare-direction');
    const select = element('select', 'nbtrack-Compare-directionSelect');
    for (const [value, text] of [
      ['min', 'lower'],
      ['max', 'higher']
    ]) {
      const option = element('option', undefined, text);
      option.value = value;
      select.appendChild(option);
    }
    select.value = row.direction;
    select.title = row.explicit ? 'chosen here' : 'inferred from the name';
    select.addEventListener('change', () =>
      choose(row.key, select.value === 'max' ? 'max' : 'min')
    );
    cell.appendChild(select);
    tr.appendChild(cell);
    node.tBodies[0].appendChild(tr);
  }
  box.appendChild(node);
  return box;
}

/** Two runs' code, diffed: deleted lines (first run only), added lines (second run only). */
export function diffView(diff: ICodeDiff, first: string, second: string): HTMLElement {
  const box = element('div', 'nbtrack-Diff');
  const legend = element('div', 'nbtrack-Diff-legend');
  legend.append(
    element('span', 'nbtrack-Diff-del', `− ${first}`),
    element('span', 'nbtrack-Diff-add', `+ ${second}`)
  );
  box.appendChild(legend);
  if (!diff.lines.length) {
    box.appendChild(element('div', 'nbtrack-Compare-note', 'Neither run recorded code.'));
    return box;
  }
  if (diff.lines.every(line => line.kind === 'same')) {
    box.appendChild(element('div', 'nbtrack-Compare-note', 'The code is the same.'));
  }
  const lines = element('div', 'nbtrack-Diff-lines');
  for (const line of diff.lines) {
    const row = element('div', `nbtrack-Diff-line nbtrack-Diff-${line.kind}`);
    row.append(
      element('span', 'nbtrack-Diff-number', line.old === null ? '' : String(line.old)),
      element('span', 'nbtrack-Diff-number', line.new === null ? '' : String(line.new)),
      element(
        'span',
        'nbtrack-Diff-text',
        `${line.kind === 'add' ? '+' : line.kind === 'del' ? '−' : ' '} ${line.text}`
      )
    );
    lines.appendChild(row);
  }
  box.appendChild(lines);
  return box;
}

/** Each run's captured images, side by side; fetched with Jupyter's auth as they are shown. */
export function imagesView(data: IComparison, api: NbtrackApi): HTMLElement {
  const box = element('div', 'nbtrack-Images');
  if (data.images.every(list => !list.length)) {
    box.appendChild(element('div', 'nbtrack-Compare-note', 'No images in these runs.'));
    return box;
  }
  data.images.forEach((list, i) => {
    const column = element('div', 'nbtrack-Images-run');
    const title = element('div', 'nbtrack-Images-title', data.labels[i]);
    title.style.borderColor = colorOf(i);
    column.appendChild(title);
    if (!list.length) {
      column.appendChild(element('div', 'nbtrack-Compare-note', 'no images'));
    }
    for (const image of list) {
      const figure = element('figure', 'nbtrack-Images-image');
      const img = element('img');
      img.alt = image.name;
      figure.append(img, element('figcaption', undefined, image.name));
      column.appendChild(figure);
      api
        .blob(image.url)
        .then(blob => {
          img.src = URL.createObjectURL(blob);
        })
        .catch(error => {
          figure.appendChild(element('div', 'nbtrack-Compare-error', String(error.message ?? error)));
        });
    }
    if (data.images_omitted[i]) {
      column.appendChild(
        element('div', 'nbtrack-Compare-note', `${data.images_omitted[i]} more not shown`)
      );
    }
    box.appendChild(column);
  });
  return box;
}

/** Where the runs ran; package versions only where they differ unless `allPackages`. */
export function envTable(rows: IEnvRow[], labels: string[], allPackages: boolean): HTMLElement {
  const box = element('div', 'nbtrack-Compare-values nbtrack-Compare-env');
  const shown = rows.filter(r => r.group !== 'package' || r.differs || allPackages);
  if (!shown.length) {
    box.appendChild(element('div', 'nbtrack-Compare-note', 'No environment recorded.'));
    return box;
  }
  const node = table('nbtrack-Compare-envTable', labels);
  for (const row of shown) {
    const tr = element(
      'tr',
      `nbtrack-Env-${row.group}${row.differs ? ' nbtrack-mod-differs' : ''}`
    );
    const key = row.group === 'git' ? `git ${row.key}` : row.key;
    tr.dataset.key = key;
    tr.appendChild(keyCell(key));
    const texts = row.values.map(v => v ?? MISSING);
    texts.forEach(text => {
      tr.appendChild(
        element('td', row.differs && text !== texts[0] ? 'nbtrack-mod-changed' : undefined, text)
      );
    });
    node.tBodies[0].appendChild(tr);
  }
  box.appendChild(node);
  const same = rows.filter(r => r.group === 'package' && !r.differs).length;
  if (same && !allPackages) {
    const noun = same === 1 ? 'package has' : 'packages have';
    box.appendChild(
      element('div', 'nbtrack-Compare-note', `${same} more ${noun} the same version in every run.`)
    );
  }
  return box;
}
