import type { Db, Tx } from './database.ts';

/** A statement drizzle built once (`.prepare(name)`), with its placeholders to fill. */
interface Prepared<Result> {
  execute(values?: Record<string, unknown>): Promise<Result>;
}

/** The connection a drizzle handle runs on: the pool, or a transaction's own connection. */
const clientOf = (on: Db | Tx): unknown =>
  (on as unknown as { _: { session: { client: unknown } } })._.session.client;

/**
 * Runs a statement prepared once on the pool on `on`: the pool, or the connection of the
 * transaction `tx`. drizzle builds a query's SQL on every call (its query builder was a
 * quarter of the origin's main thread on PostgreSQL's job path), and a statement prepared
 * inside a transaction would be built again each time; a named one is also parsed and
 * planned by the server once per connection, not per call. The statement is bound to the
 * transaction's connection by shadowing drizzle's `client` field (drizzle 0.45: the
 * PostgreSQL conformance suite runs every statement both ways and would fail on a change).
 *
 * @example
 * const byId = db.select().from(jobs).where(eq(jobs.id, sql.placeholder('id'))).prepare('job_by_id');
 * const [row] = await on(tx, byId, { id });
 */
export function on<Result>(
  handle: Db | Tx,
  statement: Prepared<Result>,
  values: Record<string, unknown> = {},
): Promise<Result> {
  const bound = Object.create(statement, { client: { value: clientOf(handle) } });
  return (bound as Prepared<Result>).execute(values);
}
