import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs, idText } from './columns.ts';
import { users } from './users.ts';

/**
 * Session tokens ended before their expiry (a sign-out), by the token's id (`jti`): a
 * request with one is refused on every origin. A row is useless once its token expired,
 * and is forgotten.
 */
export const endedSessions = pgTable(
  'ended_sessions',
  {
    tokenId: text('token_id').primaryKey(),
    userId: idText('user_id')
      .notNull()
      .references(() => users.id),
    /** When the token expires (epoch ms): after it, the row can go. */
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [index('ended_sessions_expiry').on(t.expiresAt)],
);
