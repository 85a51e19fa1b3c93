import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { decideCreate } from '../../../origin/jobs/job-rules.ts';
import { connect, type Tx } from '../../../origin/store/postgres/database.ts';
import { openPostgresStore } from '../../../origin/store/postgres/index.ts';
import { prepareJobStatements } from '../../../origin/store/postgres/job-statements.ts';
import { on } from '../../../origin/store/postgres/prepared.ts';
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
