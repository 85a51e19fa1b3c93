import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { openSqliteStore } from '../../../origin/store/sqlite/index.ts';
import type { Store } from '../../../origin/store/store.ts';
import { tempDir } from '../support.ts';
import { type StoreFactory, storeConformance } from './conformance/index.ts';

const files = new WeakMap<Store, string>();

function opened(file: string): Store {
  const store = openSqliteStore(file);
  files.set(store, file);
  onTestFinished(() => store.close());
  return store;
}

/** SQLite stores on a file in a temporary folder; a second store opens the same file. */
const sqlite: StoreFactory = {
  async open() {
    return opened(join(tempDir(), 'overture.sqlite'));
  },
  async reopen(store) {
    const file = files.get(store);
    if (!file) throw new Error('not a store of this factory');
    return opened(file);
  },
};

storeConformance('sqlite', sqlite);
