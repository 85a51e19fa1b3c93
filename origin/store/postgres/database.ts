import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema/index.ts';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** The advisory lock origins take to apply migrations one at a time (any constant). */
const migrationLock = 7_061_913;

/**
 * A pool of `poolSize` connections to the database at `url` and its drizzle handle.
 *
 * @example
 * const db = connect('postgres://overture@db.internal/overture', 10);
 */
export function connect(url: string, poolSize: number): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle connection the server ended (a restart, a failover) is dropped from the pool;
  // unheard, the error would end the process.
  pool.on('error', () => {});
  return drizzle({ client: pool, schema });
}

/**
 * Applies the committed migrations under an advisory lock, so origins starting together do
 * not race: the first applies them, the others wait and then find nothing left to do.
 */
export async function migrateUnderLock(db: Db): Promise<void> {
  const client = await db.$client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLock]);
    try {
      await migrate(drizzle({ client, schema }), { migrationsFolder });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLock]);
    }
  } finally {
    client.release();
  }
}
