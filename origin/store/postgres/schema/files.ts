import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs, idText } from './columns.ts';
import { users } from './users.ts';

/** Files users uploaded (`POST /v1/files`), for job inputs; their bytes are in the outputs' store. */
export const files = pgTable(
  'files',
  {
    id: idText('id').primaryKey(),
    userId: idText('user_id')
      .notNull()
      .references(() => users.id),
    /** The name the uploader gave, or null. */
    name: text('name'),
    /** The canonical type of what it was checked to be (`audio/wav`, `audio/mpeg`…). */
    contentType: text('content_type').notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    /** Its key in the outputs' store (disk or R2). */
    storageKey: text('storage_key').notNull(),
    createdAt: epochMs('created_at').notNull(),
    expiresAt: epochMs('expires_at').notNull(),
  },
  (t) => [index('files_user').on(t.userId), index('files_expires').on(t.expiresAt)],
);
