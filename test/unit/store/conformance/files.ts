import { describe, expect, it } from 'vitest';
import { newId } from '../../../../origin/lib/ids.ts';
import type { FileRecord } from '../../../../origin/store/store.ts';
import { makeUser } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const file = (userId: string, at: number, ttl = 60_000): FileRecord => {
  const id = newId('file', at);
  return {
    id,
    userId,
    name: null,
    contentType: 'audio/wav',
    bytes: 44,
    sha256: 'ab'.repeat(32),
    storageKey: `${id}.wav`,
    createdAt: at,
    expiresAt: at + ttl,
  };
};

/** The conformance suite's part for uploaded files' records. */
export function filesSuite(factory: StoreFactory): void {
  describe('files store', () => {
    it("keeps a user's files for that user only, newest first, until they expire", async () => {
      const store = await factory.open();
      const [a, b] = [await makeUser(store), await makeUser(store)];
      const now = Date.now();
      const older = file(a.id, now - 1_000);
      const newer = file(a.id, now);
      const short = file(a.id, now - 2_000, 1_500);
      for (const f of [older, newer, short]) expect(await store.files.create(f, 10)).toBe(true);
      expect((await store.files.list(a.id, now, 10)).map((f) => f.id)).toEqual([
        newer.id,
        older.id,
      ]);
      expect(await store.files.get(a.id, older.id, now)).toEqual(older);
      expect(await store.files.get(b.id, older.id, now)).toBeUndefined();
      expect(await store.files.get(a.id, short.id, now)).toBeUndefined();
      expect(await store.files.remove(b.id, older.id)).toBeUndefined();
      expect(await store.files.remove(a.id, older.id)).toEqual(older);
      expect(await store.files.get(a.id, older.id, now)).toBeUndefined();
      // The expired one is taken once, the others stay.
      expect((await store.files.takeExpired(now, 10)).map((f) => f.id)).toEqual([short.id]);
      expect(await store.files.takeExpired(now, 10)).toEqual([]);
      expect((await store.files.list(a.id, now, 10)).map((f) => f.id)).toEqual([newer.id]);
    });

    it('refuses a file past the per-user number, counting only files not expired, even at once', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const now = Date.now();
      expect(await store.files.create(file(user.id, now - 5_000, 1_000), 2)).toBe(true);
      const racing = await Promise.all(
        Array.from({ length: 5 }, (_, i) => store.files.create(file(user.id, now + i), 2)),
      );
      expect(racing.filter(Boolean)).toHaveLength(2);
      expect(await store.files.list(user.id, now, 10)).toHaveLength(2);
    });
  });
}
