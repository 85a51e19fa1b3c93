import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './users.ts';

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    /** The visible start of the key (`ovt_abcd1234`), to tell keys apart. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole key, hex: the key itself is shown once and never stored. */
    keyHash: text('key_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_keys_user').on(t.userId)],
);
