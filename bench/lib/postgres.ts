import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { postgresBinaries } from '../../scripts/lib/postgres-server.ts';
import { ensureDebianPackage } from './apt.ts';

/**
 * Why PostgreSQL's server cannot run here, or undefined when it can: Debian's `postgresql`
 * is installed first when missing and this process is root (as CI runs).
 */
export function postgresMissing(): string | undefined {
  const present = () => {
    try {
      postgresBinaries();
      return true;
    } catch {
      return false;
    }
  };
  if (ensureDebianPackage('postgresql', 'the cluster figures', present)) return undefined;
  return 'PostgreSQL is not installed (apt-get install -y postgresql)';
}

/** One query on its own connection, closed after. */
export async function query<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The server's postmaster process id, from `postmaster.pid` in its data directory. */
export async function postmasterPid(url: string): Promise<number> {
  const [row] = await query<{ data_directory: string }>(url, 'SHOW data_directory');
  const pidFile = readFileSync(join(row?.data_directory ?? '', 'postmaster.pid'), 'utf8');
  return Number(pidFile.split('\n')[0]);
}
