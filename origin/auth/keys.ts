import type { ApiKeyTags } from '../../shared/api-key.ts';
import { ApiError } from '../../shared/errors.ts';
import type { ApiKeyInfo, CreatedApiKey } from '../../shared/schemas/auth.ts';
import type { ApiKeyRecord } from '../store/records.ts';
import type { AccountStore } from '../store/store.ts';
import { generateApiKey } from './api-keys.ts';

const toInfo = (k: ApiKeyRecord): ApiKeyInfo => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  createdAt: new Date(k.createdAt).toISOString(),
  lastUsedAt: k.lastUsedAt === null ? null : new Date(k.lastUsedAt).toISOString(),
});

/** A new key for the user; the answer is the only place the key is ever shown. */
export async function createKey(
  accounts: AccountStore,
  tags: ApiKeyTags,
  userId: string,
  name: string,
): Promise<CreatedApiKey> {
  const generated = await generateApiKey(tags, userId);
  const record = await accounts.createApiKey({
    userId,
    name,
    prefix: generated.prefix,
    keyHash: generated.hash,
  });
  return { id: record.id, name: record.name, prefix: record.prefix, key: generated.key };
}

export async function listKeys(accounts: AccountStore, userId: string): Promise<ApiKeyInfo[]> {
  return (await accounts.listApiKeys(userId)).map(toInfo);
}

/** Revokes the key; another user's key is as unknown as a missing one. */
export async function revokeKey(
  accounts: AccountStore,
  userId: string,
  keyId: string,
): Promise<void> {
  if (!(await accounts.revokeApiKey(userId, keyId))) {
    throw new ApiError('not_found', 'No API key with that id.');
  }
}
