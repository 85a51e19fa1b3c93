/**
 * Waits, when fewer than `marginMs` are left of the current minute, for the next one. The
 * rate-limiting binding that counts the edge's default budget counts in windows of the wall
 * clock (Miniflare's: each minute of `Date.now()` starts a new count), so a test that spends
 * that budget and counts what passed must not straddle two of them. No `node:` imports: the
 * edge's tests (workerd) use it too.
 *
 * @example
 * beforeEach(() => awayFromWindowEnd());
 */
export async function awayFromWindowEnd(marginMs = 3_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
