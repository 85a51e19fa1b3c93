import { fillPlaceholders } from 'drizzle-orm';
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

/** A write drizzle built (its SQL and its parameters, placeholders among them). */
interface BuiltWrite {
  toSQL(): { sql: string; params: unknown[] };
}

/** Writes made one statement: the first ones as data-modifying CTEs of the last. */
export interface Chained {
  name: string;
  text: string;
  params: unknown[];
}

/**
 * Several writes of one transaction as one named statement (`with w0 as (…), w1 as (…) …`):
 * one round trip instead of one each. PostgreSQL runs every data-modifying CTE exactly once,
 * whether or not the last statement reads it, on the same snapshot; so the writes must not
 * depend on each other's effects (each may read only what was there before the statement).
 *
 * @example
 * const saveWithEvent = chained('job_save_event', db.update(jobs)…, db.insert(jobEvents)…);
 * await runChained(tx, saveWithEvent, { ...job, ...event });
 */
export function chained(name: string, ...writes: BuiltWrite[]): Chained {
  let offset = 0;
  const params: unknown[] = [];
  const texts = writes.map((write) => {
    const built = write.toSQL();
    const text = built.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    offset += built.params.length;
    params.push(...built.params);
    return text;
  });
  const last = texts.pop() ?? '';
  const ctes = texts.map((text, i) => `w${i} as (${text})`).join(', ');
  return { name, text: ctes ? `with ${ctes} ${last}` : last, params };
}

/** Runs a chained statement on `handle` (the pool, or a transaction's connection). */
export async function runChained(
  handle: Db | Tx,
  statement: Chained,
  values: Record<string, unknown>,
): Promise<void> {
  const client = clientOf(handle) as {
    query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
  };
  await client.query({
    name: statement.name,
    text: statement.text,
    values: fillPlaceholders(statement.params, values),
  });
}
