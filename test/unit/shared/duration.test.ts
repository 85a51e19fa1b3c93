import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../shared/duration.ts';

describe('Cancel-After durations', () => {
  it('reads hours, minutes, seconds and milliseconds in that order', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1500ms')).toBe(1_500);
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
  });

  it('refuses anything else', () => {
    for (const text of ['', 'soon', '5', '1m1h', '-5s', '1.5s', '5 s', '5S', 'ms', '1d']) {
      expect(parseDuration(text), text).toBeUndefined();
    }
  });
});
