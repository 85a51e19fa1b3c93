import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeUser } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

const tokenId = () => randomUUID();
const inAnHour = () => Date.now() + 3_600_000;

let keys = 0;
const keyInput = (userId: string) => {
  const n = ++keys;
  return {
    userId,
    name: `k${n}`,
    prefix: `ovt_s${n}`,
    keyHash: `session-hash-${n}-${randomUUID()}`,
  };
};

/** The conformance suite's part for ending sessions; every store implementation runs it. */
export function sessionsSuite(factory: StoreFactory): void {
  describe('sessions store', () => {
    it('finds the user of a token, not ended until it is ended, once or twice', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const a = { tokenId: tokenId(), userId: user.id, expiresAt: inAnHour() };
      const b = tokenId();
      expect(await store.sessions.find(user.id, a.tokenId)).toEqual({ user, ended: false });

      await store.sessions.end(a);
      await store.sessions.end(a);
      expect(await store.sessions.find(user.id, a.tokenId)).toEqual({ user, ended: true });
      // Another token of the same user is untouched.
      expect(await store.sessions.find(user.id, b)).toEqual({ user, ended: false });
      expect(await store.sessions.find('usr_missing', a.tokenId)).toBeUndefined();
      expect(await store.sessions.ended([a.tokenId, b, tokenId()])).toEqual([a.tokenId]);
      expect(await store.sessions.ended([])).toEqual([]);
    });

    it('an end on one store is seen by another on the same database (another origin)', async () => {
      const store = await factory.open();
      const other = await factory.reopen(store);
      const user = await makeUser(store);
      const token = { tokenId: tokenId(), userId: user.id, expiresAt: inAnHour() };
      expect((await other.sessions.find(user.id, token.tokenId))?.ended).toBe(false);
      await store.sessions.end(token);
      expect((await other.sessions.find(user.id, token.tokenId))?.ended).toBe(true);
      expect(await other.sessions.ended([token.tokenId])).toEqual([token.tokenId]);
    });

    it('forgets ended tokens that expired before the given time, and only those', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const old = { tokenId: tokenId(), userId: user.id, expiresAt: 1_000 };
      const live = { tokenId: tokenId(), userId: user.id, expiresAt: inAnHour() };
      await store.sessions.end(old);
      await store.sessions.end(live);
      expect(await store.sessions.forgetEnded(2_000)).toBe(1);
      expect(await store.sessions.ended([old.tokenId, live.tokenId])).toEqual([live.tokenId]);
      expect(await store.sessions.forgetEnded(2_000)).toBe(0);
    });

    it('changes the password only from the stored hash, raising the session version', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      expect(user.sessionVersion).toBe(0);
      expect(await store.sessions.changePassword(user.id, 'a stale hash', 'x')).toBeUndefined();
      expect(
        await store.sessions.changePassword('usr_missing', user.passwordHash, 'x'),
      ).toBeUndefined();
      expect(await store.accounts.findUserById(user.id)).toEqual(user);

      expect(await store.sessions.changePassword(user.id, user.passwordHash, 'hash-2')).toBe(1);
      expect(await store.accounts.findUserById(user.id)).toEqual({
        ...user,
        passwordHash: 'hash-2',
        sessionVersion: 1,
      });
      expect(await store.sessions.changePassword(user.id, 'hash-2', 'hash-3')).toBe(2);
      expect(await store.sessions.versions([user.id, 'usr_missing'])).toEqual([
        { id: user.id, sessionVersion: 2 },
      ]);
    });

    it('of two password changes racing from one hash, exactly one wins', async () => {
      const store = await factory.open();
      const other = await factory.reopen(store);
      const user = await makeUser(store);
      const results = await Promise.all([
        store.sessions.changePassword(user.id, user.passwordHash, 'from-a'),
        other.sessions.changePassword(user.id, user.passwordHash, 'from-b'),
      ]);
      expect(results.filter((r) => r === 1)).toHaveLength(1);
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
      const now = await store.accounts.findUserById(user.id);
      expect(now?.sessionVersion).toBe(1);
      expect(now?.passwordHash).toBe(results[0] === 1 ? 'from-a' : 'from-b');
    });

    it('answers which API keys are live, leaving out revoked and missing ones', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const kept = await store.accounts.createApiKey(keyInput(user.id));
      const revoked = await store.accounts.createApiKey(keyInput(user.id));
      await store.accounts.revokeApiKey(user.id, revoked.id);
      expect(await store.sessions.liveKeys([kept.id, revoked.id, 'key_missing'])).toEqual([
        kept.id,
      ]);
      expect(await store.sessions.liveKeys([])).toEqual([]);
    });

    it('answers batched reads of more ids than one statement binds', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const token = { tokenId: tokenId(), userId: user.id, expiresAt: inAnHour() };
      await store.sessions.end(token);
      const many = [...Array.from({ length: 2_500 }, tokenId), token.tokenId];
      expect(await store.sessions.ended(many)).toEqual([token.tokenId]);
      const users = [...Array.from({ length: 2_500 }, () => `usr_${randomUUID()}`), user.id];
      expect(await store.sessions.versions(users)).toEqual([{ id: user.id, sessionVersion: 0 }]);
    });
  });
}
