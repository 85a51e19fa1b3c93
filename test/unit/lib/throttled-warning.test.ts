import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttledWarning } from '../../../origin/lib/throttled-warning.ts';

/** A logger that keeps its warnings. */
function logger() {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  return {
    lines,
    warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }),
  };
}

describe('throttledWarning', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes the first at once, then at most one line per interval with the count', () => {
    const log = logger();
    const warn = throttledWarning(log, 'refused', 1000);
    warn('missing', '/v1/me');
    expect(log.lines).toEqual([
      { fields: { count: 1, reason: 'missing', path: '/v1/me' }, msg: 'refused' },
    ]);
    for (let i = 0; i < 500; i++) warn(i % 5 === 0 ? 'stale' : 'missing', '/v1/jobs');
    expect(log.lines).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]).toEqual({
      fields: { count: 500, reasons: { stale: 100, missing: 400 }, intervalMs: 1000 },
      msg: 'refused',
    });
    // Another burst in the next interval: one more line when it ends, none before.
    for (let i = 0; i < 50; i++) warn('replayed', '/v1/me');
    vi.advanceTimersByTime(999);
    expect(log.lines).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(log.lines[2]?.fields).toMatchObject({ count: 50, reasons: { replayed: 50 } });
  });

  it('writes nothing for a quiet interval, and the next one at once again', () => {
    const log = logger();
    const warn = throttledWarning(log, 'refused', 1000);
    warn('missing', '/a');
    vi.advanceTimersByTime(5000);
    expect(log.lines).toHaveLength(1);
    warn('stale', '/b');
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]?.fields).toEqual({ count: 1, reason: 'stale', path: '/b' });
  });

  it('checks its interval when it is made', () => {
    for (const interval of [0, -1, 1.5, Number.NaN]) {
      expect(() => throttledWarning(logger(), 'x', interval), String(interval)).toThrow(RangeError);
    }
  });
});
