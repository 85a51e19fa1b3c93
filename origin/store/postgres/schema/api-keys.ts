import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs, idText } from './columns.ts';
import { users } from './users.ts';

export const apiKeys = pgTable(
  'api_keys',
  {
    id: idText('id').primaryKey(),
    userId: idText('user_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    /** The visible start of the key (`ovt_abcd1234`), to tell keys apart. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole key, hex: the key itself is shown once and never stored. */
    keyHash: text('key_hash').notNull().unique(),
    createdAt: epochMs('created_at').notNull(),
    lastUsedAt: epochMs('last_used_at'),
    revokedAt: epochMs('revoked_at'),
  },
  (t) => [index('api_keys_user').on(t.userId)],
);
