import { describe, expect, it } from 'vitest';
import { signupCredits } from '../../../../origin/billing/signup-credits.ts';
import { makeUser } from '../../support.ts';
import type { StoreFactory } from './store-factory.ts';

let keys = 0;
const keyInput = (userId: string, name = 'laptop') => {
  const n = ++keys;
  return { userId, name, prefix: `ovt_${n}`, keyHash: `hash-${n}-${Date.now()}` };
};

const userRecord = (id: string, email: string) => ({
  id,
  email,
  passwordHash: 'argon2-hash',
  balance: 5,
  webhookSecret: 'whsec_unit',
  createdAt: 1_700_000_000_000,
  sessionVersion: 0,
  isAdmin: false,
  lastStartedAt: null,
});

/** The conformance suite's part for this concern; every store implementation runs it. */
export function accountsSuite(factory: StoreFactory): void {
  describe('accounts store', () => {
    it('creates a user and finds it by email and by id', async () => {
      const store = await factory.open();
      const user = userRecord('usr_ada0000000000', 'ada@example.test');
      const created = await store.accounts.createUser(
        user,
        signupCredits(user.id, 5, user.createdAt),
      );
      if (created === 'email_taken') throw new Error('email was free');
      expect(created).toEqual(user);
      expect(await store.accounts.findUserByEmail('ada@example.test')).toEqual(created);
      expect(await store.accounts.findUserById(created.id)).toEqual(created);
      expect(await store.accounts.findUserByEmail('nobody@example.test')).toBeUndefined();
      expect(await store.accounts.findUserById('usr_missing')).toBeUndefined();
    });

    it("answers 'email_taken' for a second account with the same email, granting nothing", async () => {
      const store = await factory.open();
      const first = await makeUser(store, 5);
      const other = userRecord('usr_other00000000', first.email);
      const again = await store.accounts.createUser(other, signupCredits(other.id, 5, 0));
      expect(again).toBe('email_taken');
      expect(await store.accounts.findUserByEmail(first.email)).toEqual(first);
      expect(await store.ledger.sum(first.id)).toBe(5);
      expect(await store.accounts.findUserById(other.id)).toBeUndefined();
      expect(await store.ledger.sum(other.id)).toBe(0);
    });

    it('creates and lists API keys, without ever answering their hash', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const a = await store.accounts.createApiKey(keyInput(user.id, 'a'));
      const b = await store.accounts.createApiKey(keyInput(user.id, 'b'));
      expect(a).toMatchObject({ userId: user.id, name: 'a', lastUsedAt: null });
      expect(a.id).toMatch(/^key_/);
      const listed = await store.accounts.listApiKeys(user.id);
      expect(listed.map((k) => k.id)).toEqual([a.id, b.id]);
      for (const k of [a, ...listed]) expect(k).not.toHaveProperty('keyHash');
    });

    it('hides revoked keys from the list and from findApiKey', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const input = keyInput(user.id);
      const key = await store.accounts.createApiKey(input);
      const kept = await store.accounts.createApiKey(keyInput(user.id));
      expect((await store.accounts.findApiKey(input.keyHash))?.id).toBe(key.id);

      expect(await store.accounts.revokeApiKey(user.id, key.id)).toBe(true);
      expect((await store.accounts.listApiKeys(user.id)).map((k) => k.id)).toEqual([kept.id]);
      expect(await store.accounts.findApiKey(input.keyHash)).toBeUndefined();
      expect(await store.accounts.revokeApiKey(user.id, key.id)).toBe(false);
    });

    it("refuses to revoke another user's key or a missing one", async () => {
      const store = await factory.open();
      const owner = await makeUser(store);
      const intruder = await makeUser(store);
      const input = keyInput(owner.id);
      const key = await store.accounts.createApiKey(input);
      expect(await store.accounts.revokeApiKey(intruder.id, key.id)).toBe(false);
      expect(await store.accounts.revokeApiKey(owner.id, 'key_missing')).toBe(false);
      expect((await store.accounts.findApiKey(input.keyHash))?.id).toBe(key.id);
      expect(await store.accounts.listApiKeys(intruder.id)).toEqual([]);
    });

    it('makes a user an administrator only when an operator grants it, by email, and takes it back', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const other = await makeUser(store);
      expect(user.isAdmin).toBe(false);
      expect(await store.accounts.listAdmins()).toEqual([]);

      expect(await store.accounts.setAdmin(user.email, true)).toBe(true);
      expect((await store.accounts.findUserById(user.id))?.isAdmin).toBe(true);
      expect((await store.accounts.findUserByEmail(user.email))?.isAdmin).toBe(true);
      expect((await store.accounts.findUserById(other.id))?.isAdmin).toBe(false);
      // Granting twice is no error, and changes nothing more.
      expect(await store.accounts.setAdmin(user.email, true)).toBe(true);
      expect(await store.accounts.listAdmins()).toEqual([
        { id: user.id, email: user.email, createdAt: user.createdAt },
      ]);

      expect(await store.accounts.setAdmin(user.email, false)).toBe(true);
      expect((await store.accounts.findUserById(user.id))?.isAdmin).toBe(false);
      expect(await store.accounts.listAdmins()).toEqual([]);
    });

    it('answers false when granting or revoking an email no account has, creating nothing', async () => {
      const store = await factory.open();
      expect(await store.accounts.setAdmin('nobody@example.test', true)).toBe(false);
      expect(await store.accounts.setAdmin('nobody@example.test', false)).toBe(false);
      expect(await store.accounts.findUserByEmail('nobody@example.test')).toBeUndefined();
      expect(await store.accounts.listAdmins()).toEqual([]);
    });

    it('lists administrators oldest account first, seen by a second store at once', async () => {
      const store = await factory.open();
      const twin = await factory.reopen(store);
      const first = await makeUser(store);
      const second = await makeUser(store);
      await store.accounts.setAdmin(second.email, true);
      await twin.accounts.setAdmin(first.email, true);
      expect((await store.accounts.listAdmins()).map((a) => a.id)).toEqual([first.id, second.id]);
      expect((await twin.accounts.findUserById(second.id))?.isAdmin).toBe(true);
    });

    it('records when a key was last used', async () => {
      const store = await factory.open();
      const user = await makeUser(store);
      const input = keyInput(user.id);
      const key = await store.accounts.createApiKey(input);
      await store.accounts.touchApiKey(key.id, 1_700_000_000_000);
      expect((await store.accounts.findApiKey(input.keyHash))?.lastUsedAt).toBe(1_700_000_000_000);
    });
  });
}
