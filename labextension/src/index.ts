/**
 * nbtrack's JupyterLab extension: the runs sidebar (left panel `nbtrack-sidebar`), the compare
 * tab (`nbtrack-compare`), jumping from a run to its cell, badges on the cells that made runs,
 * and "nbtrack: Track this cell" (`nbtrack:toggle-track`) in the command palette and the
 * notebook toolbar.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  INotebookModel,
  INotebookTracker,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { CommandToolbarButton, LabIcon } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { IRunSummary, NbtrackApi } from './api';
import { CellBadges, ICellBadgesOptions } from './cellbadges';
import { ChangeFeed } from './changefeed';
import { CompareView } from './compare';
import { ChartRenderer } from './mimechart';
import { isTracked, toggleTrackLine, touchesNotebook } from './logic';
import { openRunCell } from './navigate';
import { RunsSidebar } from './sidebar';
import nbtrackSvg from '../style/icons/nbtrack.svg';

export const nbtrackIcon = new LabIcon({
  name: 'nbtrack-labextension:nbtrack',
  svgstr: nbtrackSvg
});

export namespace CommandIDs {
  export const toggleTrack = 'nbtrack:toggle-track';
  export const openSidebar = 'nbtrack:open-sidebar';
  export const compare = 'nbtrack:compare';
}

const SIDEBAR_ID = 'nbtrack-sidebar';
const COMPARE_ID = 'nbtrack-compare';

/** Adds the "Track this cell" button to every notebook's toolbar. */
class TrackButtonExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(private readonly app: JupyterFrontEnd) {}

  createNew(panel: NotebookPanel): IDisposable {
    const button = new CommandToolbarButton({
      commands: this.app.commands,
      id: CommandIDs.toggleTrack,
      icon: nbtrackIcon,
      label: ''
    });
    button.addClass('nbtrack-TrackButton');
    panel.toolbar.insertAfter('cellType', 'nbtrack-track', button);
    return new DisposableDelegate(() => button.dispose());
  }
}

/** Gives every notebook its cell badges, and keeps them reachable to refresh them. */
class CellBadgesExtension
  implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel>
{
  constructor(
    private readonly options: ICellBadgesOptions,
    private readonly feed: ChangeFeed
  ) {}

  /** The badges of the open notebooks. */
  readonly open = new Set<CellBadges>();

  createNew(panel: NotebookPanel): IDisposable {
    const badges = new CellBadges(panel, this.options);
    this.open.add(badges);
    const holding = this.feed.hold(); // runs made elsewhere update the badges too
    const done = new DisposableDelegate(() => {
      this.open.delete(badges);
      holding.dispose();
      badges.dispose();
    });
    panel.disposed.connect(() => done.dispose());
    return done;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbtrack-labextension:plugin',
  description: 'Runs sidebar, compare tab, jump to cell and "Track this cell" for nbtrack.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILayoutRestorer, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    ChartRenderer.registry = rendermime; // "Open in Plotly" on nbtrack's own charts
    const api = new NbtrackApi();
    const feed = new ChangeFeed(api);
    let compare: MainAreaWidget<CompareView> | null = null;

    const openCompare = (runs: IRunSummary[]) => {
      let widget = compare;
      if (!widget || widget.isDisposed) {
        widget = new MainAreaWidget({ content: new CompareView({ api, rendermime, feed }) });
        widget.id = COMPARE_ID;
        widget.title.icon = nbtrackIcon;
        widget.title.closable = true;
        widget.disposed.connect(() => (compare = null));
        compare = widget;
      }
      widget.title.label = `Compare ${runs.map(run => `#${run.seq}`).join(' ')}`;
      if (!widget.isAttached) {
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
      void widget.content.load(runs);
    };

    const badges = new CellBadgesExtension({ api, compare: openCompare }, feed);
    feed.polled.connect((_, changes) => {
      const root = PageConfig.getOption('serverRoot');
      badges.open.forEach(b => {
        if (changes.deleted || touchesNotebook(changes.runs, b.path, root)) {
          b.schedule();
        }
      });
    });
    // A cell finished: its run (if it made one) is stored by now.
    NotebookActions.executed.connect((_, { notebook, cell }) => {
      badges.open.forEach(b => b.panel.content === notebook && b.cellExecuted(cell));
    });

    const sidebar = new RunsSidebar({
      api,
      openRun: run => {
        openRunCell(app, api, run).catch(error =>
          console.error('nbtrack: could not open the cell of a run', error)
        );
      },
      compare: openCompare,
      feed
    });
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = nbtrackIcon;
    sidebar.title.caption = 'nbtrack runs';
    app.shell.add(sidebar, 'left', { rank: 650 });
    if (restorer) {
      restorer.add(sidebar, SIDEBAR_ID);
    }

    const activeCodeCell = () => {
      const cell = notebooks.activeCell;
      return cell && cell.model.type === 'code' && notebooks.currentWidget === app.shell.currentWidget
        ? cell
        : null;
    };

    app.commands.addCommand(CommandIDs.toggleTrack, {
      label: 'nbtrack: Track this cell',
      caption: 'Add or remove the %%track line of the active code cell',
      icon: args => (args.toolbar ? nbtrackIcon : undefined),
      isEnabled: () => activeCodeCell() !== null,
      isToggled: () => {
        const cell = activeCodeCell();
        return !!cell && isTracked(cell.model.sharedModel.getSource());
      },
      execute: () => {
        const cell = activeCodeCell();
        if (!cell) {
          return;
        }
        const shared = cell.model.sharedModel;
        shared.setSource(toggleTrackLine(shared.getSource()));
      }
    });
    app.commands.addCommand(CommandIDs.openSidebar, {
      label: 'nbtrack: Show runs',
      execute: () => app.shell.activateById(SIDEBAR_ID)
    });
    app.commands.addCommand(CommandIDs.compare, {
      label: 'nbtrack: Compare selected runs',
      execute: args => {
        const ids = (args.runs as string[] | undefined) ?? [];
        const byId = new Map(sidebar.shownRuns.map(run => [run.run_id, run]));
        const runs = ids
          .map(id => byId.get(id))
          .filter((run): run is IRunSummary => !!run);
        if (runs.length) {
          openCompare(runs);
        }
      }
    });

    // The toggle's enabled/toggled state follows the active cell and its text.
    const refreshToggle = () => app.commands.notifyCommandChanged(CommandIDs.toggleTrack);
    notebooks.activeCellChanged.connect(refreshToggle);
    notebooks.currentChanged.connect(refreshToggle);
    let watched: { disconnect: () => void } | null = null;
    notebooks.activeCellChanged.connect((_, cell) => {
      watched?.disconnect();
      watched = null;
      if (cell) {
        const source = cell.model.sharedModel;
        const onChange = () => refreshToggle();
        source.changed.connect(onChange);
        watched = { disconnect: () => source.changed.disconnect(onChange) };
      }
    });

    if (palette) {
      palette.addItem({ command: CommandIDs.toggleTrack, category: 'nbtrack' });
      palette.addItem({ command: CommandIDs.openSidebar, category: 'nbtrack' });
    }
    app.docRegistry.addWidgetExtension('Notebook', new TrackButtonExtension(app));
    app.docRegistry.addWidgetExtension('Notebook', badges);
  }
};

export default plugin;
