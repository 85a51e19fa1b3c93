import { describe, expect, it } from 'vitest';
import { parseRange, requestedRange } from '../../../shared/range.ts';

describe('parseRange', () => {
  it('sends the whole file without a header', () => {
    expect(parseRange(undefined, 1000)).toBeUndefined();
  });

  it.each([
    ['bytes=0-99', { start: 0, end: 99 }],
    ['bytes=100-199', { start: 100, end: 199 }],
    ['bytes=999-999', { start: 999, end: 999 }],
    ['bytes=500-', { start: 500, end: 999 }],
    ['bytes=0-', { start: 0, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=-1', { start: 999, end: 999 }],
    ['  bytes=5-9  ', { start: 5, end: 9 }],
  ])('reads %s', (header, range) => {
    expect(parseRange(header, 1000)).toEqual(range);
  });

  it('clamps an end past the file to its last byte', () => {
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
  });

  it('answers the whole file for a suffix longer than the file', () => {
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
  });

  it.each([
    ['a start at the size', 'bytes=1000-'],
    ['a start past the size', 'bytes=2000-2100'],
    ['an end before the start', 'bytes=10-5'],
    ['an empty suffix', 'bytes=-0'],
    ['no positions at all', 'bytes=-'],
    ['a malformed position', 'bytes=abc'],
    ['a negative start', 'bytes=--5'],
  ])('refuses %s as unsatisfiable', (_, header) => {
    expect(parseRange(header, 1000)).toBe('unsatisfiable');
  });

  it('refuses every range of an empty file', () => {
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=-10', 0)).toBe('unsatisfiable');
  });

  it.each(['bytes=0-1,5-9', 'bytes=0-99, 200-299', 'bytes=-10,0-1'])(
    'answers several ranges (%s) with the whole file',
    (header) => {
      expect(parseRange(header, 1000)).toBeUndefined();
    },
  );

  it('answers the whole file for a unit other than bytes', () => {
    expect(parseRange('items=0-5', 1000)).toBeUndefined();
    expect(parseRange('', 1000)).toBeUndefined();
  });
});

describe('requestedRange', () => {
  const file = { size: 1000, etag: '"v1"' };
  const headers = (h: Record<string, string>) => (name: string) => h[name];

  it('reads the Range without an If-Range, or with one naming this version', () => {
    expect(requestedRange(headers({ range: 'bytes=0-9' }), file)).toEqual({ start: 0, end: 9 });
    expect(requestedRange(headers({ range: 'bytes=0-9', 'if-range': '"v1"' }), file)).toEqual({
      start: 0,
      end: 9,
    });
  });

  it('answers the whole file under a stale If-Range, even for a range beyond it', () => {
    expect(
      requestedRange(headers({ range: 'bytes=0-9', 'if-range': '"v0"' }), file),
    ).toBeUndefined();
    expect(
      requestedRange(headers({ range: 'bytes=5000-', 'if-range': '"v0"' }), file),
    ).toBeUndefined();
  });

  it('refuses a range beyond the file of this version', () => {
    expect(requestedRange(headers({ range: 'bytes=5000-' }), file)).toBe('unsatisfiable');
  });
});
