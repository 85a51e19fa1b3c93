import { describe, expect, it } from 'vitest';
import { makeUser, tempStore } from '../support.ts';

let keys = 0;
const keyInput = (userId: string, name = 'laptop') => {
  const n = ++keys;
  return { userId, name, prefix: `ovt_${n}`, keyHash: `hash-${n}-${Date.now()}` };
};

describe('accounts store', () => {
  it('creates a user and finds it by email and by id', async () => {
    const store = tempStore();
    const created = await store.accounts.createUser({
      email: 'ada@example.test',
      passwordHash: 'argon2-hash',
      grant: 5,
    });
    if (created === 'email_taken') throw new Error('email was free');
    expect(created).toMatchObject({ email: 'ada@example.test', balance: 5 });
    expect(created.id).toMatch(/^usr_/);
    expect(await store.accounts.findUserByEmail('ada@example.test')).toEqual(created);
    expect(await store.accounts.findUserById(created.id)).toEqual(created);
    expect(await store.accounts.findUserByEmail('nobody@example.test')).toBeUndefined();
    expect(await store.accounts.findUserById('usr_missing')).toBeUndefined();
  });

  it("answers 'email_taken' for a second account with the same email, granting nothing", async () => {
    const store = tempStore();
    const first = await makeUser(store, 5);
    const again = await store.accounts.createUser({
      email: first.email,
      passwordHash: 'other',
      grant: 5,
    });
    expect(again).toBe('email_taken');
    expect(await store.accounts.findUserByEmail(first.email)).toEqual(first);
    expect(await store.ledger.sum(first.id)).toBe(5);
  });

  it('creates and lists API keys, without ever answering their hash', async () => {
    const store = tempStore();
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
    const store = tempStore();
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
    const store = tempStore();
    const owner = await makeUser(store);
    const intruder = await makeUser(store);
    const input = keyInput(owner.id);
    const key = await store.accounts.createApiKey(input);
    expect(await store.accounts.revokeApiKey(intruder.id, key.id)).toBe(false);
    expect(await store.accounts.revokeApiKey(owner.id, 'key_missing')).toBe(false);
    expect((await store.accounts.findApiKey(input.keyHash))?.id).toBe(key.id);
    expect(await store.accounts.listApiKeys(intruder.id)).toEqual([]);
  });

  it('records when a key was last used', async () => {
    const store = tempStore();
    const user = await makeUser(store);
    const input = keyInput(user.id);
    const key = await store.accounts.createApiKey(input);
    await store.accounts.touchApiKey(key.id, 1_700_000_000_000);
    expect((await store.accounts.findApiKey(input.keyHash))?.lastUsedAt).toBe(1_700_000_000_000);
  });
});
