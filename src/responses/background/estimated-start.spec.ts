import { estimatedStart, PACE_SECONDS } from './estimated-start';

describe('estimatedStart', () => {
  const now = 1_764_000_000_000;
  it('is now when nothing is ahead', () => {
    expect(estimatedStart({ ahead: 0, startBy: null, completedRecently: 0 }, now)).toBe(now / 1000);
  });
  it('goes by the pace of recent completions', () => {
    // 600 completions in 300 s: 2 per second; 10 ahead: 5 s.
    expect(estimatedStart({ ahead: 10, startBy: null, completedRecently: 2 * PACE_SECONDS }, now)).toBe(now / 1000 + 5);
  });
  it('is a windowed response’s latest start when that comes first, and null without a pace or a latest start', () => {
    const startBy = new Date(now + 60_000);
    expect(estimatedStart({ ahead: 1000, startBy, completedRecently: 1 }, now)).toBe(startBy.getTime() / 1000);
    expect(estimatedStart({ ahead: 3, startBy: null, completedRecently: 0 }, now)).toBeNull();
    expect(estimatedStart({ ahead: 3, startBy, completedRecently: 0 }, now)).toBe(startBy.getTime() / 1000);
  });
});
