/**
 * A warning that anyone on the network can make the origin repeat (one per unsigned
 * request), written at most once per `intervalMs`: the first at once, with its reason and
 * path; those within the interval that follows are counted, and written when it ends as one
 * line with their count and their reasons. A flood costs a line per interval, not per
 * request, and the log still says how many there were.
 */

/** The one method of a pino logger this needs. */
export interface WarningLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
}

/**
 * @example
 * const refused = throttledWarning(logger, 'edge signature refused', 10_000);
 * refused('missing', '/v1/webhooks/stripe');
 */
export function throttledWarning(
  logger: WarningLogger,
  msg: string,
  intervalMs: number,
): (reason: string, path: string) => void {
  if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`intervalMs must be a positive integer, not ${intervalMs}`);
  }
  let interval: NodeJS.Timeout | undefined;
  let held: { count: number; reasons: Record<string, number> } | undefined;
  const open = () => {
    interval = setTimeout(close, intervalMs);
    // A count still held when the process stops is not worth keeping it up for.
    interval.unref();
  };
  const close = () => {
    interval = undefined;
    if (!held) return;
    logger.warn({ count: held.count, reasons: held.reasons, intervalMs }, msg);
    held = undefined;
    open();
  };
  return function warn(reason, path) {
    if (!interval) {
      logger.warn({ count: 1, reason, path }, msg);
      open();
      return;
    }
    held ??= { count: 0, reasons: {} };
    held.count++;
    held.reasons[reason] = (held.reasons[reason] ?? 0) + 1;
  };
}
