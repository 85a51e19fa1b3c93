import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { makeUser, tempDir, tempStore } from '../support.ts';

describe('SQLite store: connections in several threads', () => {
  it('lets only as many jobs through as there are credits when threads race for them', async () => {
    const file = join(tempDir(), 'x.sqlite');
    const store = tempStore(file);
    const user = await makeUser(store, 20);
    const storeUrl = new URL('../../../origin/store/sqlite/index.ts', import.meta.url).href;
    const idsUrl = new URL('../../../origin/lib/ids.ts', import.meta.url).href;
    // Each thread opens its own connection, waits for the start signal, then asks for 20
    // one-credit jobs as fast as it can: 40 requests for 20 credits.
    const go = new Int32Array(new SharedArrayBuffer(4));
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      Promise.all([import(workerData.storeUrl), import(workerData.idsUrl)]).then(
        async ([{ openSqliteStore }, { newId }]) => {
          const store = openSqliteStore(workerData.file);
          parentPort.postMessage('ready');
          Atomics.wait(workerData.go, 0, 0);
          let created = 0;
          for (let i = 0; i < 20; i++) {
            const at = Date.now();
            const r = await store.jobs.create({
              id: newId('job', at), at,
              userId: workerData.userId, model: 'steps', modelVersion: '1', input: { i },
              cost: 1, idempotencyKey: undefined, requestHash: 'h' + i, queueLimit: 1000,
            });
            if (r.kind === 'created') created++;
          }
          await store.close();
          parentPort.postMessage(created);
        },
      );
    `;
    const workers = Array.from(
      { length: 2 },
      () =>
        new Worker(code, {
          eval: true,
          workerData: { storeUrl, idsUrl, file, userId: user.id, go },
        }),
    );
    const message = (worker: Worker) =>
      new Promise<unknown>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    await Promise.all(workers.map(message));
    const done = Promise.all(workers.map(message));
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    const counts = (await done) as number[];

    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    expect(await store.ledger.balance(user.id)).toBe(0);
    expect(await store.ledger.sum(user.id)).toBe(0);
    expect(await store.jobs.countQueued()).toBe(20);
  });
});
