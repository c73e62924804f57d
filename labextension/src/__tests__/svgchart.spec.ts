// Unit tests of nbtrack's own chart geometry (src/svgchart.ts).
import { extent, nearestIndex, niceTicks, pathData, scale, shortNumber } from '../svgchart';

describe('extent and scale', () => {
  it('skips missing and non-finite values', () => {
    expect(extent([3, null, -1, NaN, Infinity, 2])).toEqual([-1, 3]);
    expect(extent([null, NaN])).toBeNull();
  });

  it('maps a domain onto a range, a flat domain onto its middle', () => {
    const s = scale([0, 10], [100, 0]);
    expect(s(0)).toBe(100);
    expect(s(2.5)).toBe(75);
    expect(scale([5, 5], [0, 10])(5)).toBe(5);
  });
});

describe('niceTicks', () => {
  it('covers the range with steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.013, 0.98)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0, 2999, 3)).toEqual([0, 1000, 2000]);
    expect(niceTicks(-3, 7)).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(4, 4)).toEqual([4]);
    expect(niceTicks(NaN, 1)).toEqual([]);
  });
});

describe('pathData', () => {
  it('lifts the pen at missing values', () => {
    const id = (v: number) => v;
    expect(pathData([0, 1, 2, 3, 4], [1, 2, null, 4, NaN], id, id)).toBe('M0.0,1.0L1.0,2.0M3.0,4.0');
    expect(pathData([], [], id, id)).toBe('');
  });
});

describe('nearestIndex', () => {
  it('finds the nearest x by bisection', () => {
    const xs = [0, 10, 20, 40];
    expect(nearestIndex(xs, -5)).toBe(0);
    expect(nearestIndex(xs, 14)).toBe(1);
    expect(nearestIndex(xs, 16)).toBe(2);
    expect(nearestIndex(xs, 31)).toBe(3);
    expect(nearestIndex(xs, 99)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe('shortNumber', () => {
  it('keeps 4 significant digits and uses exponents for very large or small values', () => {
    expect(shortNumber(0.123456)).toBe('0.1235');
    expect(shortNumber(2999)).toBe('2999');
    expect(shortNumber(123456)).toBe('1.23e+5');
    expect(shortNumber(0.00001234)).toBe('1.23e-5');
    expect(shortNumber(0)).toBe('0');
    expect(shortNumber(null)).toBe('—');
  });
});
