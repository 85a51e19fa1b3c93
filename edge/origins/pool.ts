/**
 * Which origin a request goes to. Requests take turns over the origins that are not being
 * skipped (round robin); an origin that could not take a request is skipped for a while,
 * then tried again. The state is the isolate's: each isolate of the Worker learns by
 * itself, which costs at most one failed attempt per isolate and origin.
 *
 * @example
 * const order = originPool.order(config.origins); // try order[0], then order[1], …
 * originPool.skip(order[0], config.ORIGIN_RETRY_AFTER_MS);
 */
export class OriginPool {
  #turn = 0;
  readonly #skippedUntil = new Map<string, number>();

  /**
   * The origins in the order to try them: those not skipped, starting with the next one's
   * turn; then the skipped ones, the soonest due first, as a last resort rather than no answer.
   */
  order(origins: readonly string[], now = Date.now()): string[] {
    const until = (origin: string) => this.#skippedUntil.get(origin) ?? 0;
    const ready = origins.filter((o) => until(o) <= now);
    const skipped = origins.filter((o) => until(o) > now).sort((a, b) => until(a) - until(b));
    const start = ready.length > 0 ? this.#turn % ready.length : 0;
    this.#turn = (this.#turn + 1) % Number.MAX_SAFE_INTEGER;
    return [...ready.slice(start), ...ready.slice(0, start), ...skipped];
  }

  /** Leaves `origin` out of the turns for `ms`. */
  skip(origin: string, ms: number, now = Date.now()): void {
    this.#skippedUntil.set(origin, now + ms);
  }

  /** `origin` answered: it takes its turns again. */
  restore(origin: string): void {
    this.#skippedUntil.delete(origin);
  }
}

/** The isolate's pool, shared by its requests (module state lives as long as the isolate). */
export const originPool = new OriginPool();
