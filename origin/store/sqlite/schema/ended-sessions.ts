import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './users.ts';

/**
 * Session tokens ended before their expiry (a sign-out), by the token's id (`jti`): a
 * request with one is refused. A row is useless once its token expired, and is forgotten.
 */
export const endedSessions = sqliteTable(
  'ended_sessions',
  {
    tokenId: text('token_id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    /** When the token expires (epoch ms): after it, the row can go. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('ended_sessions_expiry').on(t.expiresAt)],
);
