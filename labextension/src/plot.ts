/**
 * A Plotly chart in a Lumino widget, drawn by the Plotly mime renderer JupyterLab already has
 * (jupyterlab-plotly, installed with plotly — a dependency of nbtrack), so the extension ships no
 * copy of plotly.js. Each draw makes a fresh renderer: jupyterlab-plotly's renderer draws a
 * model once and ignores later ones.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';

import { IFigure } from './charts';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** Plotly's graph div: plotly.js adds `on` to it for its events. */
interface IGraphNode extends HTMLElement {
  on?: (event: string, handler: (data: any) => void) => void;
}

export class PlotlyChart extends Panel {
  constructor(private readonly rendermime: IRenderMimeRegistry | null) {
    super();
    this.addClass('nbtrack-Chart');
  }

  /** Whether this Lab can draw Plotly charts. */
  get available(): boolean {
    return !!this.rendermime && this.rendermime.mimeTypes.includes(PLOTLY_MIME);
  }

  /**
   * Draw `figure` in place of what was drawn; `onRelayout` hears zooms and autoranges.
   * Resolves when the chart is on the page.
   */
  async draw(
    figure: IFigure,
    onRelayout?: (event: { [key: string]: unknown }) => void
  ): Promise<void> {
    const generation = ++this.generation;
    if (!this.rendermime || !this.available) {
      this.clear();
      const note = new Widget();
      note.addClass('nbtrack-Chart-missing');
      note.node.textContent =
        "Charts need Plotly's JupyterLab extension (jupyterlab-plotly, installed with plotly), " +
        'which is not enabled in this JupyterLab.';
      this.addWidget(note);
      return;
    }
    const renderer = this.rendermime.createRenderer(PLOTLY_MIME);
    const model = new MimeModel({ data: { [PLOTLY_MIME]: figure as any }, trusted: true });
    this.clear();
    this.addWidget(renderer);
    await renderer.renderModel(model);
    if (generation !== this.generation) {
      return; // a newer draw replaced this one meanwhile
    }
    const graph = renderer.node as IGraphNode;
    if (onRelayout && typeof graph.on === 'function') {
      graph.on('plotly_relayout', onRelayout);
    }
  }

  /** Remove the chart (and any note). */
  clear(): void {
    for (const child of Array.from(this.widgets)) {
      child.dispose();
    }
  }

  private generation = 0;
}
