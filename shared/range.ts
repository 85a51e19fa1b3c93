/** A byte range, both ends included. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header for a file of `size` bytes (RFC 9110 §14). Answers `undefined`
 * when the whole file should be sent (no header, a unit other than bytes, or several
 * ranges, which we answer in full), `'unsatisfiable'` for a range outside the file.
 *
 * @example
 * parseRange('bytes=0-99', 1000); // { start: 0, end: 99 }
 * parseRange('bytes=-100', 1000); // { start: 900, end: 999 }
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match)
    return header.trim().startsWith('bytes=') && !header.includes(',')
      ? 'unsatisfiable'
      : undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return 'unsatisfiable';
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * The range a download of one file answers: its request's `Range` (`parseRange`), unless an
 * `If-Range` names another version than `etag` (RFC 9110 §13.1.5: a stale `If-Range` means
 * the whole current file). The origin's download and the edge's, from its bucket, both read
 * their request with it.
 *
 * @example
 * requestedRange((name) => c.req.header(name), { size: 1000, etag: '"abc"' });
 */
export function requestedRange(
  header: (name: 'range' | 'if-range') => string | undefined,
  file: { size: number; etag: string },
): ByteRange | 'unsatisfiable' | undefined {
  const ifRange = header('if-range');
  return ifRange === undefined || ifRange === file.etag
    ? parseRange(header('range'), file.size)
    : undefined;
}
