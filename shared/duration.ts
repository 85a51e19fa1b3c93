/**
 * A duration as the `Cancel-After` header spells it (as Replicate's does): hours, minutes,
 * seconds and milliseconds, each at most once and in that order, e.g. `90s`, `5m`, `1h30m`,
 * `1500ms`. Answers milliseconds, or undefined when the text is not such a duration.
 *
 * @example
 * parseDuration('1m30s'); // 90_000
 * parseDuration('soon'); // undefined
 */
export function parseDuration(text: string): number | undefined {
  const parts = /^(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?(?:(\d{1,9})ms)?$/.exec(text);
  if (!parts || text === '') return undefined;
  const [, h = '0', m = '0', s = '0', ms = '0'] = parts;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(ms);
}

/** The latest a job's deadline may be, from its creation: a week (`Cancel-After: 168h`). */
export const maxJobDeadlineMs = 7 * 24 * 3_600_000;
/** The shortest `Cancel-After`: a second. */
export const minCancelAfterMs = 1_000;
