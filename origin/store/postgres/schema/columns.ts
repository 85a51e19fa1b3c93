import { bigint, customType } from 'drizzle-orm/pg-core';

/** Epoch milliseconds, as every record counts time (a JavaScript number, not a string). */
export const epochMs = (name: string) => bigint(name, { mode: 'number' });

/**
 * An id compared byte by byte: ids sort by creation time only in the "C" collation, and the
 * queue and pagination walk them in order whatever the database's default collation is.
 */
export const idText = customType<{ data: string }>({
  dataType: () => 'text COLLATE "C"',
});
