/**
 * How a queued job's card says where it stands: its place in the fair order across users,
 * then the estimated wait, which is never a promise, so it reads "about" and stays coarse.
 */

/**
 * An English ordinal: 11th to 13th, however large the number, take "th".
 *
 * @example
 * ordinal(1); // '1st'
 * ordinal(12); // '12th'
 * ordinal(22); // '22nd'
 */
export function ordinal(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return `${n}th`;
  const suffix = ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/**
 * A wait of some seconds, rounded as a person would say it: seconds under a minute and a
 * half, then whole minutes, then hours and minutes.
 *
 * @example
 * aboutWait(40); // 'about 40 s'
 * aboutWait(100); // 'about 2 min'
 * aboutWait(3900); // 'about 1 h 5 min'
 */
export function aboutWait(seconds: number): string {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `about ${hours} h` : `about ${hours} h ${rest} min`;
}

/**
 * The card's line for a queued job: its position (1 starts next) and, when the server gave
 * one, its estimated start; an estimate of zero means the job is about to start.
 *
 * @example
 * queueLine(3, 40); // '3rd in line, about 40 s'
 * queueLine(1, 0); // '1st in line, starting soon'
 * queueLine(2, null); // '2nd in line'
 */
export function queueLine(position: number, etaSeconds: number | null): string {
  const place = `${ordinal(position)} in line`;
  if (etaSeconds === null) return place;
  return etaSeconds <= 0 ? `${place}, starting soon` : `${place}, ${aboutWait(etaSeconds)}`;
}
