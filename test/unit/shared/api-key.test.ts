import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, looksLikeApiKey } from '../../../origin/auth/api-keys.ts';
import { createKey } from '../../../origin/auth/keys.ts';
import { authenticate } from '../../../origin/auth/principal.ts';
import { createTokenSigner } from '../../../origin/auth/tokens.ts';
import { apiKeyTags } from '../../../shared/api-key.ts';
import { makeUser, tempStore } from '../support.ts';

const secret = new TextEncoder().encode('an-api-key-test-secret-of-32-bytes-or-more');
const tags = apiKeyTags(secret);
const userId = 'usr_01M8000000000000000000000Z';

describe('API keys that name their user', () => {
  it('are read back as their user, whatever their random part holds', async () => {
    const keys = await Promise.all(Array.from({ length: 200 }, () => tags.mint(userId)));
    for (const key of keys) {
      expect(key).toMatch(
        /^ovt_[A-Za-z0-9_-]{43}_usr_01M8000000000000000000000Z_[A-Za-z0-9_-]{22}$/,
      );
      expect(await tags.userOf(key)).toBe(userId);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('are read under the same secret only (a copy of its bytes is the same secret)', async () => {
    const key = await tags.mint(userId);
    expect(await apiKeyTags(new Uint8Array(secret)).userOf(key)).toBe(userId);
    const other = apiKeyTags(new TextEncoder().encode('another-secret-of-32-bytes-or-more!!'));
    expect(await other.userOf(key)).toBeUndefined();
  });

  it('name no user once any character is changed, or the user is swapped', async () => {
    const key = await tags.mint(userId);
    const changed = [
      key.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      // The other spellings of the tag's last character (4 bits no decoder reads).
      ...['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P']
        .map((c) => key.slice(0, -1) + c)
        .filter((k) => k !== key),
      key.replace(userId, 'usr_01M8000000000000000000000Y'),
      key.replace(/^ovt_./, (p) => `ovt_${p.at(-1) === 'a' ? 'b' : 'a'}`),
      key.slice(0, -1),
      `${key}A`,
      key.replace('ovt_', 'ovx_'),
    ];
    for (const k of changed) expect(await tags.userOf(k), k).toBeUndefined();
  });

  it('leave keys of the older format and anything else unread', async () => {
    for (const k of [
      `ovt_${'A'.repeat(43)}`,
      'ovt_',
      'eyJ.a.b',
      '',
      `ovt_${'A'.repeat(43)}__${'A'.repeat(22)}`,
    ]) {
      expect(await tags.userOf(k)).toBeUndefined();
    }
  });

  it('refuse to mint for a user id that could not be read back', async () => {
    await expect(tags.mint('usr 1')).rejects.toThrow();
    await expect(tags.mint('x'.repeat(65))).rejects.toThrow();
  });
});

describe('generateApiKey', () => {
  it('answers a key of its user, its visible prefix and its SHA-256', async () => {
    const { key, prefix, hash } = await generateApiKey(tags, userId);
    expect(looksLikeApiKey(key)).toBe(true);
    expect(prefix).toBe(key.slice(0, 12));
    expect(prefix).not.toContain(userId.slice(0, 8));
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(await tags.userOf(key)).toBe(userId);
  });
});

describe('authenticate, at the origin', () => {
  const tokens = createTokenSigner(secret, 600);

  it('accepts a new key by its hash, as the older ones', async () => {
    const store = tempStore();
    const user = await makeUser(store);
    const created = await createKey(store.accounts, tags, user.id, 'new');
    expect(await tags.userOf(created.key)).toBe(user.id);
    expect(
      await authenticate(
        { accounts: store.accounts, sessions: store.sessions, tokens },
        created.key,
      ),
    ).toEqual({
      userId: user.id,
      apiKeyId: created.id,
    });
  });

  it('still accepts a key of the older `ovt_<random>` format issued before', async () => {
    const store = tempStore();
    const user = await makeUser(store);
    const old = `ovt_${'b'.repeat(43)}`;
    const record = await store.accounts.createApiKey({
      userId: user.id,
      name: 'old',
      prefix: old.slice(0, 12),
      keyHash: hashApiKey(old),
    });
    expect(
      await authenticate({ accounts: store.accounts, sessions: store.sessions, tokens }, old),
    ).toEqual({
      userId: user.id,
      apiKeyId: record.id,
    });
  });
});
