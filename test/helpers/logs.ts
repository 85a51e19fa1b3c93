/** One JSON log line of an origin (pino), with the fields tests read. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * The JSON lines of an origin's captured output, in order; other lines (stderr text) are
 * left out.
 *
 * @example
 * const finished = logLines(origin.output()).filter((l) => l.msg === 'job finished');
 */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      // A line cut by a write still in progress: the next read has it whole.
    }
  }
  return lines;
}
