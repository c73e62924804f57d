/**
 * From a run to the cell that made it: open the run's notebook (its path made relative to the
 * server root), then scroll to and briefly highlight the cell with the run's cell id, or, when
 * no cell has it (the notebook was rebuilt), the cell whose code matches the run's source.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { NotebookPanel } from '@jupyterlab/notebook';

import { IRunSummary, NbtrackApi } from './api';
import { findCellIndex, relativeToRoot } from './logic';

const HIGHLIGHT_CLASS = 'nbtrack-mod-highlight';
const HIGHLIGHT_MS = 2500;

export async function openRunCell(
  app: JupyterFrontEnd,
  api: NbtrackApi,
  run: IRunSummary
): Promise<void> {
  if (!run.notebook) {
    Notification.info(`Run #${run.seq} was not made in a notebook.`, {
      autoClose: 5000
    });
    return;
  }
  const path = relativeToRoot(run.notebook, PageConfig.getOption('serverRoot'));
  if (path === null) {
    Notification.warning(
      `The notebook of run #${run.seq} (${run.notebook}) is outside the folder JupyterLab serves.`,
      { autoClose: 8000 }
    );
    return;
  }
  const widget = await app.commands.execute('docmanager:open', {
    path,
    factory: 'Notebook'
  });
  if (!(widget instanceof NotebookPanel)) {
    return;
  }
  await widget.context.ready;
  await widget.revealed;
  const notebook = widget.content;
  const cells = notebook.widgets.map(cell => ({
    id: cell.model.id,
    source: cell.model.sharedModel.getSource()
  }));
  let index = findCellIndex(cells, run.cell_id, null);
  if (index < 0) {
    const detail = await api.getRun(run.run_id).catch(() => null);
    index = findCellIndex(cells, run.cell_id, detail?.source ?? null);
  }
  if (index < 0) {
    Notification.info(
      `No cell of ${path} matches run #${run.seq} any more (its cell was changed or deleted).`,
      { autoClose: 6000 }
    );
    return;
  }
  notebook.activeCellIndex = index;
  const cell = notebook.widgets[index];
  await notebook.scrollToCell(cell, 'center');
  cell.node.classList.remove(HIGHLIGHT_CLASS);
  void cell.node.offsetWidth; // restart the CSS animation when the same cell is hit twice
  cell.node.classList.add(HIGHLIGHT_CLASS);
  window.setTimeout(() => cell.node.classList.remove(HIGHLIGHT_CLASS), HIGHLIGHT_MS);
}
