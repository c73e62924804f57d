import {
  IRunLike,
  baseName,
  cellBadge,
  findCellIndex,
  firstMetric,
  formatValue,
  groupRuns,
  isTracked,
  keyMetric,
  relativeTime,
  relativeToRoot,
  runListLine,
  toggleTrackLine,
  touchesNotebook
} from '../logic';

function run(
  seq: number,
  experiment: string,
  notebook: string | null,
  values: { [key: string]: unknown } = {}
): IRunLike {
  return {
    run_id: `r${seq}`,
    seq,
    experiment,
    notebook,
    start_time: 1000 - seq,
    values
  };
}

describe('groupRuns', () => {
  const runs = [
    run(5, 'mnist', '/w/a.ipynb'),
    run(4, 'cifar', '/w/b.ipynb'),
    run(3, 'mnist', '/w/b.ipynb'),
    run(2, 'mnist', null),
    run(1, '', '/w/a.ipynb')
  ];

  it('keeps one unlabelled group in order when not grouping', () => {
    const groups = groupRuns(runs, 'none');
    expect(groups).toHaveLength(1);
    expect(groups[0].label).toBe('');
    expect(groups[0].runs.map(r => r.seq)).toEqual([5, 4, 3, 2, 1]);
  });

  it('groups by experiment, groups ordered by their newest run', () => {
    const groups = groupRuns(runs, 'experiment');
    expect(groups.map(g => g.label)).toEqual(['mnist', 'cifar', '(no experiment)']);
    expect(groups[0].runs.map(r => r.seq)).toEqual([5, 3, 2]);
  });

  it('groups by notebook, labelled by file name, runs without one last', () => {
    const groups = groupRuns(runs, 'notebook');
    expect(groups.map(g => [g.key, g.label])).toEqual([
      ['/w/a.ipynb', 'a.ipynb'],
      ['/w/b.ipynb', 'b.ipynb'],
      ['', '(no notebook)']
    ]);
    expect(groups[0].runs.map(r => r.seq)).toEqual([5, 1]);
  });

  it('gives no group for no runs', () => {
    expect(groupRuns([], 'notebook')).toEqual([]);
  });
});

describe('relativeTime', () => {
  const now = 1_700_000_000_000;
  const at = (secondsAgo: number) => relativeTime(now / 1000 - secondsAgo, now);

  it('says just now for the last seconds and for small clock skews', () => {
    expect(at(0)).toBe('just now');
    expect(at(4)).toBe('just now');
    expect(at(-30)).toBe('just now');
  });

  it('counts seconds, minutes, hours and days', () => {
    expect(at(42)).toBe('42 s ago');
    expect(at(60)).toBe('1 min ago');
    expect(at(59 * 60 + 59)).toBe('59 min ago');
    expect(at(3 * 3600)).toBe('3 h ago');
    expect(at(2 * 86400 + 5)).toBe('2 d ago');
  });

  it('gives the date after a month', () => {
    expect(at(40 * 86400)).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('gives nothing for a missing time', () => {
    expect(relativeTime(NaN, now)).toBe('');
  });
});

describe('toggleTrackLine', () => {
  it('adds a first %%track line', () => {
    expect(toggleTrackLine('lr = 0.1\nfit(lr)')).toBe('%%track\nlr = 0.1\nfit(lr)');
  });

  it('removes the %%track line, options included', () => {
    expect(toggleTrackLine('%%track\nlr = 0.1')).toBe('lr = 0.1');
    expect(toggleTrackLine('%%track -e "my exp" -n run\nx = 1')).toBe('x = 1');
  });

  it('restores the original source when toggled twice', () => {
    for (const source of ['', 'x = 1', 'x = 1\n', '\n\nx = 1', 'a\nb\nc']) {
      expect(toggleTrackLine(toggleTrackLine(source))).toBe(source);
    }
  });

  it('finds %%track after leading blank lines, as IPython does', () => {
    expect(isTracked('\n  \n%%track\nx = 1')).toBe(true);
    expect(toggleTrackLine('\n%%track\nx = 1')).toBe('\nx = 1');
  });

  it('does not mistake other magics or later lines for %%track', () => {
    expect(isTracked('%%tracker\nx')).toBe(false);
    expect(isTracked('%%time\n%%track\nx')).toBe(false);
    expect(isTracked('x = 1\n%%track')).toBe(false);
    expect(toggleTrackLine('%%time\nx')).toBe('%%track\n%%time\nx');
  });

  it('turns an empty cell into a tracked one', () => {
    expect(toggleTrackLine('')).toBe('%%track\n');
    expect(isTracked('%%track')).toBe(true);
  });
});

describe('relativeToRoot', () => {
  it('makes a path inside the root relative', () => {
    expect(relativeToRoot('/home/u/work/exp/a.ipynb', '/home/u/work')).toBe('exp/a.ipynb');
    expect(relativeToRoot('/home/u/work/a.ipynb', '/home/u/work/')).toBe('a.ipynb');
  });

  it('refuses a path outside the root, including a sibling with the same prefix', () => {
    expect(relativeToRoot('/home/u/other/a.ipynb', '/home/u/work')).toBeNull();
    expect(relativeToRoot('/home/u/work2/a.ipynb', '/home/u/work')).toBeNull();
  });

  it('strips only the leading slash under a root of /', () => {
    expect(relativeToRoot('/tmp/a.ipynb', '/')).toBe('tmp/a.ipynb');
  });

  it('keeps relative paths (less ./) as they are', () => {
    expect(relativeToRoot('exp/a.ipynb', '/anything')).toBe('exp/a.ipynb');
    expect(relativeToRoot('./a.ipynb', '')).toBe('a.ipynb');
  });

  it('handles Windows paths case-insensitively', () => {
    expect(relativeToRoot('C:\\Users\\U\\Work\\a.ipynb', 'c:\\users\\u\\work')).toBe('a.ipynb');
    expect(relativeToRoot('D:\\a.ipynb', 'C:\\work')).toBeNull();
  });

  it('cannot relativise against an unknown or home-relative root', () => {
    expect(relativeToRoot('/w/a.ipynb', '')).toBeNull();
    expect(relativeToRoot('/w/a.ipynb', '~/w')).toBeNull();
  });
});

describe('findCellIndex', () => {
  const cells = [
    { id: 'a1', source: 'import numpy' },
    { id: 'b2', source: '%%track\nlr = 0.1\nfit(lr)' },
    { id: 'c3', source: 'lr = 0.2' }
  ];

  it('finds the cell by id first', () => {
    expect(findCellIndex(cells, 'c3', 'import numpy')).toBe(2);
  });

  it('falls back to the source, ignoring surrounding whitespace', () => {
    expect(findCellIndex(cells, 'gone', '  lr = 0.2\n')).toBe(2);
    expect(findCellIndex(cells, null, '%%track\nlr = 0.1\nfit(lr)')).toBe(1);
  });

  it('matches a source recorded without its %%track line', () => {
    expect(findCellIndex(cells, 'gone', 'lr = 0.1\nfit(lr)')).toBe(1);
  });

  it('gives -1 when nothing matches', () => {
    expect(findCellIndex(cells, 'gone', 'print(1)')).toBe(-1);
    expect(findCellIndex(cells, null, null)).toBe(-1);
    expect(findCellIndex(cells, null, '   ')).toBe(-1);
  });
});

describe('firstMetric and formatValue', () => {
  it('takes the first metrics.* value, in the given key order when given', () => {
    const r = run(1, 'e', null, { 'params.lr': 0.1, 'metrics.loss': 0.5, 'metrics.acc': 0.9 });
    expect(firstMetric(r)).toEqual({ key: 'loss', value: 0.5 });
    expect(firstMetric(r, ['acc', 'loss'])).toEqual({ key: 'acc', value: 0.9 });
    expect(firstMetric(r, ['f1', 'loss'])).toEqual({ key: 'loss', value: 0.5 });
    expect(firstMetric(run(2, 'e', null, { 'params.lr': 1 }))).toBeNull();
  });

  it('formats numbers to 4 significant digits, and other values readably', () => {
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(12)).toBe('12');
    expect(formatValue(1234.5678)).toBe('1235');
    expect(formatValue(0.00001234)).toBe('1.234e-5');
    expect(formatValue(null)).toBe('—');
    expect(formatValue('adam')).toBe('adam');
    expect(formatValue([1, 2])).toBe('[1,2]');
    expect(formatValue(true)).toBe('true');
  });

  it('keeps markup in values as plain text (escaping is the renderer\'s textContent)', () => {
    expect(formatValue('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });
});

describe('baseName', () => {
  it('takes the last segment with either separator', () => {
    expect(baseName('/a/b/c.ipynb')).toBe('c.ipynb');
    expect(baseName('C:\\a\\d.ipynb')).toBe('d.ipynb');
    expect(baseName('e.ipynb')).toBe('e.ipynb');
  });
});

describe('cellBadge', () => {
  const runs = [
    { seq: 7, status: 'FAILED', start_time: 30 },
    { seq: 4, status: 'FINISHED', start_time: 20 },
    { seq: 2, status: 'FINISHED', start_time: 10 }
  ];

  it('gives no badge to a cell without runs', () => {
    expect(cellBadge([], { key: 'acc', value: 1 })).toBeNull();
  });

  it('counts the runs and shows the newest one\'s status and metric', () => {
    const badge = cellBadge(runs, { key: 'acc', value: 0.912345 });
    expect(badge).toMatchObject({
      count: 3,
      countText: '3 runs',
      status: 'failed',
      metric: 'acc 0.9123'
    });
    expect(badge!.title).toContain('last #7 failed');
  });

  it('says "1 run" and shows no metric when the run logged none', () => {
    const badge = cellBadge(runs.slice(2), null);
    expect(badge).toMatchObject({ countText: '1 run', status: 'finished', metric: '' });
  });
});

describe('keyMetric', () => {
  it("is the first metric's last value", () => {
    const entry = (last: number | null) => ({ last });
    expect(keyMetric({ loss: entry(0.25), acc: entry(0.9) })).toEqual({
      key: 'loss',
      value: 0.25
    });
    expect(keyMetric({ acc: entry(null) })).toEqual({ key: 'acc', value: null });
  });

  it('is null for a run without metrics', () => {
    expect(keyMetric({})).toBeNull();
  });
});

describe('runListLine', () => {
  it('shows seq, status, relative time and metric', () => {
    const now = 1_700_000_000_000;
    const line = runListLine(
      { seq: 12, status: 'FINISHED', start_time: now / 1000 - 300 },
      { key: 'acc', value: 0.75 },
      now
    );
    expect(line).toEqual({
      seq: '#12',
      status: 'finished',
      time: '5 min ago',
      metric: 'acc 0.75'
    });
  });

  it('leaves the metric empty until it is known', () => {
    expect(runListLine({ seq: 1, status: 'RUNNING', start_time: 0 }, null).metric).toBe('');
  });
});

describe('touchesNotebook', () => {
  const root = '/srv/lab';

  it('matches runs recorded with the notebook, absolute or relative', () => {
    expect(touchesNotebook([{ notebook: '/srv/lab/dir/a.ipynb' }], 'dir/a.ipynb', root)).toBe(true);
    expect(touchesNotebook([{ notebook: 'dir/a.ipynb' }], 'dir/a.ipynb', root)).toBe(true);
  });

  it('ignores other notebooks, notebooks outside the root and runs of scripts', () => {
    expect(
      touchesNotebook(
        [
          { notebook: '/srv/lab/dir/b.ipynb' },
          { notebook: '/elsewhere/dir/a.ipynb' },
          { notebook: null }
        ],
        'dir/a.ipynb',
        root
      )
    ).toBe(false);
    expect(touchesNotebook([], 'dir/a.ipynb', root)).toBe(false);
  });
});
