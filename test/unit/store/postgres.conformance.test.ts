import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { decideCreate } from '../../../origin/jobs/job-rules.ts';
import { connect, type Tx } from '../../../origin/store/postgres/database.ts';
import { openPostgresStore } from '../../../origin/store/postgres/index.ts';
import { prepareJobStatements } from '../../../origin/store/postgres/job-statements.ts';
import { on } from '../../../origin/store/postgres/prepared.ts';
import {
  jobSamplesQuery,
  ledgerSamplesQuery,
  loadQuery,
} from '../../../origin/store/postgres/stats.ts';
import type { Store } from '../../../origin/store/store.ts';
import { type PostgresServer, startPostgres } from '../../../scripts/lib/postgres-server.ts';
import { makeUser, newJob } from '../support.ts';
import { type StoreFactory, storeConformance } from './conformance/index.ts';

let server: PostgresServer;
const template = 'overture_template';

beforeAll(async () => {
  server = await startPostgres();
  // Migrations applied once, into a template every test's database is copied from.
  await server.createDatabase(template);
  const store = await openPostgresStore(server.url(template), { poolSize: 1 });
  await store.close();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const urls = new WeakMap<Store, string>();
let databases = 0;

async function opened(url: string): Promise<Store> {
  const store = await openPostgresStore(url, {
    poolSize: 4,
    onListenerError: (error) => {
      throw error;
    },
  });
  urls.set(store, url);
  onTestFinished(() => store.close());
  return store;
}

/** PostgreSQL stores on a fresh database of a throwaway server; a second store is a second pool. */
const postgres: StoreFactory = {
  async open() {
    return opened(await server.createDatabase(`t${++databases}_${process.pid}`, template));
  },
  async reopen(store) {
    const url = urls.get(store);
    if (!url) throw new Error('not a store of this factory');
    return opened(url);
  },
};

storeConformance('postgres', postgres);

describe('statements prepared once (origin/store/postgres/prepared.ts)', () => {
  it("run on a transaction's own connection: what the transaction wrote rolls back with it", async () => {
    const store = await postgres.open();
    const user = await makeUser(store, 10);
    const db = connect(urls.get(store) ?? '', 2);
    onTestFinished(() => db.$client.end());
    const q = prepareJobStatements(db);
    const decision = decideCreate(newJob(user.id), {
      prior: undefined,
      queued: 0,
      userJobs: 0,
      balance: 10,
    });
    if (decision.kind !== 'create') throw new Error(`expected a create, got ${decision.kind}`);
    const job = decision.job;
    const find = (handle: typeof db | Tx) =>
      on(handle, q.byIdForUser, { id: job.id, userId: user.id });
    await expect(
      db.transaction(async (tx) => {
        await on(tx, q.insert, { ...job });
        // Inside: the transaction sees its row, another connection does not.
        expect(await find(tx)).toHaveLength(1);
        expect(await find(db)).toHaveLength(0);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await find(db)).toHaveLength(0);
    // The same statement on the pool writes for good.
    await on(db, q.insert, { ...job });
    expect(await find(db)).toHaveLength(1);
  });
});

describe('stats windows and the load (origin/store/postgres/stats.ts)', () => {
  it('are read through the creation-time indexes and an index on status, not a scan, on a long history', async () => {
    const store = await postgres.open();
    const db = connect(urls.get(store) ?? '', 1);
    onTestFinished(() => db.$client.end());
    // 20 users, 20,000 jobs one second apart (1 in 100 still queued) and their ledger rows,
    // analysed: the planner chooses as it would on a real history.
    await db.$client.query(`
      insert into users (id, email, password_hash, balance, webhook_secret, created_at)
        select 'usr_' || i, 'u' || i || '@example.test', 'h', 0, 'whsec_x', 0 from generate_series(1, 20) i;
      insert into jobs (id, user_id, model, model_version, status, input, cost, created_at)
        select 'job_' || lpad(i::text, 10, '0'), 'usr_' || (i % 20 + 1), 'steps', '1',
          case when i % 100 = 0 then 'queued' else 'succeeded' end, '{}', 1, i * 1000
        from generate_series(1, 20000) i;
      insert into credit_ledger (user_id, delta, reason, reference, created_at)
        select 'usr_' || (i % 20 + 1), -1, 'job', 'job_' || i, i * 1000 from generate_series(1, 20000) i;
      analyze;`);
    const plan = async (query: { toSQL(): { sql: string; params: unknown[] } }) => {
      const { sql, params } = query.toSQL();
      const rows = await db.$client.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params);
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    const usesIndex = (name: string) =>
      new RegExp(`(Index (Only )?Scan using|Bitmap Index Scan on) ${name}\\b`);
    // A minute of a history of five and a half hours.
    const window = { from: 10_000_000, to: 10_060_000 };
    const ofUser = { ...window, userId: 'usr_3' };
    // One user's window: through (user_id, created_at), or (created_at) and a filter when the
    // window is narrow enough; either reads only the window's rows.
    expect(await plan(jobSamplesQuery(db, ofUser))).toMatch(usesIndex('jobs(_user)?_created'));
    expect(await plan(jobSamplesQuery(db, window))).toMatch(usesIndex('jobs_created'));
    expect(await plan(ledgerSamplesQuery(db, ofUser))).toMatch(
      usesIndex('credit_ledger(_user)?_created'),
    );
    expect(await plan(ledgerSamplesQuery(db, window))).toMatch(usesIndex('credit_ledger_created'));
    expect(await plan(loadQuery(db))).toMatch(usesIndex('jobs_status_\\w+'));
    for (const query of [
      jobSamplesQuery(db, ofUser),
      jobSamplesQuery(db, window),
      ledgerSamplesQuery(db, ofUser),
      ledgerSamplesQuery(db, window),
      loadQuery(db),
    ]) {
      expect(await plan(query)).not.toMatch(/Seq Scan/);
    }
  });
});
