import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { openPostgresStore } from '../../../origin/store/postgres/index.ts';
import type { Store } from '../../../origin/store/store.ts';
import { type PostgresServer, startPostgres } from '../../../scripts/lib/postgres-server.ts';
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
