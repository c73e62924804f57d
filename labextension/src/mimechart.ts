/**
 * nbtrack's chart mime type (`application/vnd.nbtrack.chart.v1+json`): the frozen live chart of a
 * tracked cell, drawn as plain SVG — one small chart per metric, hover for the values — so a saved
 * notebook shows its curves at once. The same output also carries Plotly's JSON (what front-ends
 * without this extension draw) and static HTML; "Open in Plotly" swaps in the interactive chart.
 * Every user string goes in through textContent.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { element } from './dom';
import {
  IChartData,
  IChartPanel,
  extent,
  nearestIndex,
  niceTicks,
  pathData,
  scale,
  shortNumber
} from './svgchart';

export const CHART_MIME = 'application/vnd.nbtrack.chart.v1+json';
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
const SVG_NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#636efa', '#ef553b', '#00cc96', '#ab63fa'];
const WIDTH = 300;
const HEIGHT = 170;
const MARGIN = { left: 52, right: 10, top: 8, bottom: 24 };

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: { [name: string]: string | number } = {},
  text?: string
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** One metric's chart: axes with round ticks, the curve, and a hover readout. */
export function panelNode(panel: IChartPanel, color: string): HTMLElement {
  const box = element('div', 'nbtrack-Chart-panel');
  box.dataset.key = panel.key;
  box.appendChild(
    element('div', 'nbtrack-Chart-panelTitle', `${panel.key} = ${shortNumber(panel.last)}`)
  );
  const chart = svg('svg', { width: WIDTH, height: HEIGHT, class: 'nbtrack-Chart-svg' });
  const xs = extent(panel.x) ?? [0, 1];
  const ys = extent(panel.y) ?? [0, 1];
  const sx = scale(xs, [MARGIN.left, WIDTH - MARGIN.right]);
  const sy = scale(ys, [HEIGHT - MARGIN.bottom, MARGIN.top]);
  const axes = svg('g', { class: 'nbtrack-Chart-axes' });
  for (const tick of niceTicks(ys[0], ys[1])) {
    const y = sy(tick).toFixed(1);
    axes.appendChild(svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y }));
    axes.appendChild(
      svg('text', { x: MARGIN.left - 4, y, 'text-anchor': 'end', dy: '0.32em' }, shortNumber(tick))
    );
  }
  for (const tick of niceTicks(xs[0], xs[1], 3)) {
    axes.appendChild(
      svg('text', { x: sx(tick).toFixed(1), y: HEIGHT - 6, 'text-anchor': 'middle' }, shortNumber(tick))
    );
  }
  chart.appendChild(axes);
  chart.appendChild(
    svg('path', { d: pathData(panel.x, panel.y, sx, sy), fill: 'none', stroke: color, 'stroke-width': 1.5, class: 'nbtrack-Chart-line' })
  );
  const cursor = svg('line', { y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: 'nbtrack-Chart-cursor', visibility: 'hidden' });
  chart.appendChild(cursor);
  const readout = element('div', 'nbtrack-Chart-readout', '\u00a0');
  chart.addEventListener('mousemove', event => {
    const rect = chart.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const step = xs[0] + ((px - MARGIN.left) / (WIDTH - MARGIN.left - MARGIN.right)) * (xs[1] - xs[0]);
    const i = nearestIndex(panel.x, step);
    if (i < 0) {
      return;
    }
    const x = sx(panel.x[i]).toFixed(1);
    cursor.setAttribute('x1', x);
    cursor.setAttribute('x2', x);
    cursor.setAttribute('visibility', 'visible');
    readout.textContent = `step ${panel.x[i]}: ${shortNumber(panel.y[i])}`;
  });
  chart.addEventListener('mouseleave', () => {
    cursor.setAttribute('visibility', 'hidden');
    readout.textContent = '\u00a0';
  });
  box.append(chart, readout);
  return box;
}

/** Draws a chart output; renders again for every model (live updates included). */
export class ChartRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('nbtrack-Chart-static');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this.options.mimeType] as unknown as IChartData;
    const title = element('div', 'nbtrack-Chart-title', data.title);
    const panels = element('div', 'nbtrack-Chart-panels');
    data.panels.forEach((panel, i) => panels.appendChild(panelNode(panel, COLORS[i % COLORS.length])));
    const parts: HTMLElement[] = [title, panels];
    if (data.more > 0) {
      parts.push(element('div', 'nbtrack-Chart-more', `+${data.more} more keys not drawn`));
    }
    const registry = ChartRenderer.registry;
    if (model.data[PLOTLY_MIME] && registry?.mimeTypes.includes(PLOTLY_MIME)) {
      // The interactive form, on demand: plotly.js is large, so a saved notebook does not load it.
      const open = element('button', 'nbtrack-Chart-interactive jp-mod-styled', 'Open in Plotly');
      open.addEventListener('click', () => void this.showPlotly(model));
      parts.push(open);
    }
    this.node.replaceChildren(...parts);
  }

  private async showPlotly(model: IRenderMime.IMimeModel): Promise<void> {
    const registry = ChartRenderer.registry;
    if (!registry || !registry.mimeTypes.includes(PLOTLY_MIME)) {
      return;
    }
    const renderer = registry.createRenderer(PLOTLY_MIME);
    await renderer.renderModel(model);
    Widget.attach(renderer, this.node);
    this.node.querySelector('.nbtrack-Chart-interactive')?.remove();
  }

  /** Set by the main plugin: the registry that can draw Plotly's mime type. */
  static registry: { mimeTypes: readonly string[]; createRenderer(mime: string): IRenderMime.IRenderer } | null =
    null;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [CHART_MIME],
  defaultRank: 0,
  createRenderer: options => new ChartRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'nbtrack-labextension:chart',
  description: "nbtrack's charts, drawn as SVG.",
  rendererFactory,
  rank: 0, // before Plotly's renderer (rank 2): the output carries both
  dataType: 'json'
};

export default extension;
