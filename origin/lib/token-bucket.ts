/**
 * A token bucket: holds at most `capacity`, refills at `perSecond`. One per WebSocket for its
 * messages and one for its replayed events; clock injectable for tests.
 *
 * @example
 * const messages = new TokenBucket(100, 20);
 * if (!messages.take()) socket.close(1008, 'too many messages');
 */
export class TokenBucket {
  readonly capacity: number;
  readonly #perMs: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(capacity: number, perSecond: number, now: () => number = () => performance.now()) {
    if (!(capacity > 0 && perSecond > 0)) throw new RangeError('capacity and rate must be > 0');
    this.capacity = capacity;
    this.#perMs = perSecond / 1000;
    this.#now = now;
    this.#tokens = capacity;
    this.#at = this.#now();
  }

  /** The tokens there are now. */
  available(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    return this.#tokens;
  }

  /** Takes `n` if there are that many; false (and nothing taken) otherwise. */
  take(n = 1): boolean {
    if (this.available() < n) return false;
    this.#tokens -= n;
    return true;
  }
}
