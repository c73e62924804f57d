// Unit tests of the compare tab's chart builders (src/charts.ts): the same figures as the inline
// panel's nbtrack/ui/figures.py, with user strings escaped.
import {
  colorOf,
  curveKeys,
  curvesFigure,
  defaultCurveKeys,
  defaultMetric,
  dimension,
  ema,
  ISeries,
  parallelFigure,
  safe,
  scatterFigure,
  zoomedSteps
} from '../charts';

const XSS = '<img src=x onerror=alert(1)>';

function series(run: number, key: string, values: (number | null)[]): ISeries {
  return {
    run,
    label: `#${run + 1}`,
    key,
    steps: values.map((_, i) => i * 10),
    values,
    times: values.map((_, i) => 1_700_000_000 + i),
    startTime: 1_699_999_990
  };
}

describe('ema', () => {
  it('is the debiased moving average pandas computes (ewm adjust=True)', () => {
    // pd.Series([1, 2, 3, 10.]).ewm(alpha=0.5, adjust=True, ignore_na=True).mean().tolist()
    const out = ema([1, 2, 3, 10], 0.5) as number[];
    const expected = [1.0, 1.6666666666666667, 2.4285714285714284, 6.466666666666667];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
  });

  it('skips missing values without decaying the weights (ignore_na=True)', () => {
    // pd.Series([1, nan, 3]).ewm(alpha=0.5, ignore_na=True).mean() -> 1, 1, 2.3333
    const out = ema([1, null, 3], 0.5) as number[];
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(1);
    expect(out[2]).toBeCloseTo(7 / 3, 12);
    expect(ema([null, 2], 0.9)).toEqual([null, 2]);
  });

  it('leaves values alone at 0 and refuses weights outside [0, 1)', () => {
    expect(ema([3, 1], 0)).toEqual([3, 1]);
    expect(() => ema([1], 1)).toThrow('smoothing must be in [0, 1)');
    expect(() => ema([1], -0.1)).toThrow(RangeError);
  });
});

describe('curvesFigure', () => {
  it('gives each run its colour and each key its dash, named "label · key" for several keys', () => {
    const fig = curvesFigure([series(0, 'loss', [3, 2]), series(1, 'loss', [4, 1]), series(1, 'acc', [0, 1])]);
    expect(fig.data.map(t => [t.name, (t.line as any).color, (t.line as any).dash])).toEqual([
      ['#1 · loss', colorOf(0), 'solid'],
      ['#2 · loss', colorOf(1), 'solid'],
      ['#2 · acc', colorOf(1), 'dash']
    ]);
    expect(fig.data[0].x).toEqual([0, 10]);
    expect((fig.layout.yaxis as any).title.text).toBe('value');
    expect(fig.layout.uirevision).toBe('nbtrack');
  });

  it('draws smoothed curves over faint raw ones, and takes wall or relative time as x', () => {
    const fig = curvesFigure([series(0, 'loss', [1, 2, 3, 10])], { smoothing: 0.5, x: 'relative', logY: true });
    expect(fig.data).toHaveLength(2);
    expect(fig.data[0]).toMatchObject({ opacity: 0.25, showlegend: false, y: [1, 2, 3, 10] });
    expect((fig.data[1].y as number[])[3]).toBeCloseTo(6.466666666666667, 12);
    expect(fig.data[1].x).toEqual([10, 11, 12, 13]);
    expect((fig.layout.yaxis as any).type).toBe('log');
    expect((fig.layout.yaxis as any).title.text).toBe('loss');
    const wall = curvesFigure([series(0, 'loss', [1])], { x: 'wall' });
    expect(wall.data[0].x).toEqual(['2023-11-14T22:13:20.000Z']);
    expect((wall.layout.xaxis as any).type).toBe('date');
  });

  it('escapes run labels and keys, which Plotly would render as HTML', () => {
    const s = { ...series(0, XSS, [1]), label: `#1 ${XSS}` };
    const fig = curvesFigure([s]);
    expect(fig.data[0].name).toBe('#1 &lt;img src=x onerror=alert(1)&gt;');
    expect((fig.layout.yaxis as any).title.text).not.toContain('<');
    expect(safe('a & "b"')).toBe('a &amp; "b"');
  });
});

describe('parallel and scatter', () => {
  const lr = { key: 'lr', values: [0.1, 0.2, 0.3], present: [true, true, true] };
  const opt = { key: XSS, values: ['sgd', 'adam', null], present: [true, true, false] };
  const acc = { key: 'acc', values: [0.5, null, 0.9], counts: [1, 0, 1] };

  it('makes numeric axes for numbers and labelled codes for text, missing values null', () => {
    const fig = parallelFigure([lr, opt], acc);
    const dims = (fig.data[0] as any).dimensions;
    expect(dims[0]).toEqual({ label: 'lr', values: [0.1, 0.2, 0.3] });
    expect(dims[1]).toEqual({
      label: safe(XSS),
      values: [1, 0, null],
      tickvals: [0, 1],
      ticktext: ['adam', 'sgd']
    });
    expect(dims[2]).toEqual({ label: 'acc', values: [0.5, null, 0.9] });
    expect((fig.data[0] as any).line.color).toEqual([0.5, null, 0.9]);
    expect(dimension('layers', [[1, 2], [3]]).ticktext).toEqual(['[1,2]', '[3]']);
    expect(dimension('n', ['1', 2]).values).toEqual([1, 2]);
  });

  it('puts one labelled point per run in its colour', () => {
    const fig = scatterFigure([4, 5, 6], opt, acc);
    expect(fig.data[0]).toMatchObject({
      x: ['sgd', 'adam', null],
      y: [0.5, null, 0.9],
      text: ['#4', '#5', '#6'],
      marker: { size: 10, color: [colorOf(0), colorOf(1), colorOf(2)] }
    });
    expect((fig.layout.xaxis as any).title.text).toBe(safe(XSS));
  });
});

describe('choices', () => {
  const metrics = [
    { key: 'acc', values: [0.5, null], counts: [1, 0] },
    { key: 'train/loss', values: [1, 2], counts: [100, 50] },
    { key: 'val_loss', values: [1, 2], counts: [10, 10] }
  ];

  it('draws keys with more than one point, a loss first, and the best-known metric', () => {
    expect(curveKeys(metrics)).toEqual(['train/loss', 'val_loss']);
    expect(curveKeys([metrics[0]])).toEqual(['acc']);
    expect(defaultCurveKeys(['acc', 'train/loss', 'val_loss'])).toEqual(['train/loss']);
    expect(defaultCurveKeys(['acc', 'f1'])).toEqual(['acc']);
    expect(defaultMetric(metrics)).toBe('train/loss');
    expect(defaultMetric([])).toBeNull();
  });
});

describe('zoomedSteps', () => {
  it('reads a zoom as a whole-step range, autorange or the whole extent as null', () => {
    expect(zoomedSteps({ 'xaxis.range[0]': 10.4, 'xaxis.range[1]': 99.2 }, [0, 1000])).toEqual([10, 100]);
    expect(zoomedSteps({ 'xaxis.range': [5, 7] }, [0, 1000])).toEqual([5, 7]);
    expect(zoomedSteps({ 'xaxis.autorange': true }, [0, 1000])).toBeNull();
    expect(zoomedSteps({ 'xaxis.range': [-5, 1200] }, [0, 1000])).toBeNull();
  });

  it('ignores what is not a change of x (legend clicks, y zoom, odd values)', () => {
    expect(zoomedSteps({ 'yaxis.range[0]': 1, 'yaxis.range[1]': 2 }, [0, 10])).toBeUndefined();
    expect(zoomedSteps({ 'xaxis.range': ['a', 'b'] }, [0, 10])).toBeUndefined();
    expect(zoomedSteps({}, null)).toBeUndefined();
  });
});
