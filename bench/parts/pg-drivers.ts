import pg from 'pg';
import postgres from 'postgres';
import { postmasterPid, query } from '../lib/postgres.ts';
import { processTreeCpuMs } from '../lib/proc.ts';
import { interleave, round } from '../lib/stats.ts';

/** One transaction of the shape a job's create has: lock a row, insert, update, commit. */
interface Driver {
  transaction(account: number): Promise<void>;
  close(): Promise<void>;
}

const lock = 'SELECT balance FROM bench_accounts WHERE id = $1 FOR UPDATE';
const insert = 'INSERT INTO bench_ledger (account, amount, at) VALUES ($1, -1, $2)';
const update = 'UPDATE bench_accounts SET balance = balance - 1 WHERE id = $1';

/**
 * node-postgres as the store uses it (a `pg.Pool`, one client checked out per transaction),
 * with unnamed statements (parsed by the server every time, as drizzle sends them) or named
 * ones (prepared once per connection).
 */
function nodePg(url: string, connections: number, prepared: boolean): Driver {
  const pool = new pg.Pool({ connectionString: url, max: connections });
  const statement = (name: string, text: string, values: unknown[]) =>
    prepared ? { name, text, values } : { text, values };
  return {
    async transaction(account) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(statement('bench-lock', lock, [account]));
        await client.query(statement('bench-insert', insert, [account, Date.now()]));
        await client.query(statement('bench-update', update, [account]));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** postgres.js with its defaults (statements prepared once per connection). */
function postgresJs(url: string, connections: number): Driver {
  const sql = postgres(url, { max: connections, onnotice: () => {} });
  return {
    async transaction(account) {
      await sql.begin(async (tx) => {
        await tx`SELECT balance FROM bench_accounts WHERE id = ${account} FOR UPDATE`;
        await tx`INSERT INTO bench_ledger (account, amount, at) VALUES (${account}, -1, ${Date.now()})`;
        await tx`UPDATE bench_accounts SET balance = balance - 1 WHERE id = ${account}`;
      });
    },
    close: () => sql.end(),
  };
}

/** `clients` concurrent clients, each on its own account, until `total` transactions are done. */
async function closedLoop(driver: Driver, clients: number, total: number): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      while (started < total) {
        started++;
        await driver.transaction(i + 1);
      }
    }),
  );
}

/**
 * The two PostgreSQL drivers of Node on the same transaction (BEGIN; SELECT … FOR UPDATE;
 * INSERT; UPDATE; COMMIT), `clients` at a time, each on its own row as each user's job
 * creates lock their own user, in interleaved rounds in this process: throughput, this
 * process's CPU per transaction (an origin's main thread pays it), and the server's.
 * The store uses `pg`; `postgres` is a devDependency for this comparison only.
 */
export async function pgDrivers(
  url: string,
  options: { clients: number; rounds: number; perRound: number },
) {
  const { clients, rounds, perRound } = options;
  await query(
    url,
    `CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL);
     CREATE TABLE bench_ledger (id bigserial PRIMARY KEY,
       account int NOT NULL REFERENCES bench_accounts (id), amount int NOT NULL, at bigint NOT NULL);
     INSERT INTO bench_accounts SELECT i, 1000000000 FROM generate_series(1, ${clients}) AS i;`,
  );
  const serverPid = await postmasterPid(url);
  const drivers = {
    pg: nodePg(url, clients, false),
    pgPrepared: nodePg(url, clients, true),
    postgresJs: postgresJs(url, clients),
  };
  type Name = keyof typeof drivers;
  const tally = Object.fromEntries(
    Object.keys(drivers).map((name) => [name, { tx: 0, ms: 0, clientMs: 0, serverMs: 0 }]),
  ) as Record<Name, { tx: number; ms: number; clientMs: number; serverMs: number }>;
  try {
    // Every connection opened and the code of each driver warm before anything is counted.
    for (const driver of Object.values(drivers)) await closedLoop(driver, clients, 1500);
    const measure = (name: Name) => async () => {
      const cpu0 = process.cpuUsage();
      const server0 = processTreeCpuMs(serverPid);
      const t0 = performance.now();
      await closedLoop(drivers[name], clients, perRound);
      const t = tally[name];
      t.ms += performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      t.clientMs += (cpu.user + cpu.system) / 1000;
      t.serverMs += processTreeCpuMs(serverPid) - server0;
      t.tx += perRound;
    };
    await interleave(rounds, {
      pg: measure('pg'),
      pgPrepared: measure('pgPrepared'),
      postgresJs: measure('postgresJs'),
    });
  } finally {
    for (const driver of Object.values(drivers)) await driver.close();
  }
  const perS = (name: Name) => (tally[name].tx / tally[name].ms) * 1000;
  const clientUs = (name: Name) => (tally[name].clientMs / tally[name].tx) * 1000;
  const serverUs = (name: Name) => (tally[name].serverMs / tally[name].tx) * 1000;
  return {
    pg_driver_pg_tx_per_s: round(perS('pg'), 0),
    pg_driver_pg_client_us_per_tx: round(clientUs('pg'), 0),
    pg_driver_pg_server_us_per_tx: round(serverUs('pg'), 0),
    pg_driver_pg_prepared_tx_per_s: round(perS('pgPrepared'), 0),
    pg_driver_pg_prepared_client_us_per_tx: round(clientUs('pgPrepared'), 0),
    pg_driver_pg_prepared_server_us_per_tx: round(serverUs('pgPrepared'), 0),
    pg_driver_postgresjs_tx_per_s: round(perS('postgresJs'), 0),
    pg_driver_postgresjs_client_us_per_tx: round(clientUs('postgresJs'), 0),
    pg_driver_postgresjs_server_us_per_tx: round(serverUs('postgresJs'), 0),
    // postgres.js / pg (as the store uses it): above 1, postgres.js does more or costs more.
    pg_driver_tx_ratio: round(perS('postgresJs') / perS('pg'), 3),
    pg_driver_client_cpu_ratio: round(clientUs('postgresJs') / clientUs('pg'), 3),
  };
}
