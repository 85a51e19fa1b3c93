import type { JobRecord } from './records.ts';

/** The columns a create writes (the others take their defaults), in both stores. */
export const createdJobColumns = [
  'id',
  'userId',
  'model',
  'modelVersion',
  'status',
  'progress',
  'input',
  'cost',
  'idempotencyKey',
  'requestHash',
  'attempts',
  'webhookUrl',
  'webhookEvents',
  'seq',
  'createdAt',
  'deadlineAt',
  'outputFormat',
] as const satisfies readonly (keyof JobRecord)[];

/** Every column a rule may change (`JobChange.set`), and the seq: what a save writes. */
export const savedJobColumns = [
  'status',
  'progress',
  'attempts',
  'errorCode',
  'errorMessage',
  'outputFile',
  'outputContentType',
  'outputBytes',
  'outputEtag',
  'runMs',
  'seq',
  'startedAt',
  'finishedAt',
  'claimedBy',
  'claimToken',
  'leaseUntil',
] as const satisfies readonly (keyof JobRecord)[];

/**
 * `{ column: placeholder(column) }` for each of `columns`: a statement's values or `set`,
 * its placeholders named as the record's fields.
 *
 * @example
 * db.insert(jobs).values(byColumn(createdJobColumns, sql.placeholder)).prepare();
 */
export function byColumn<K extends string, V>(
  columns: readonly K[],
  placeholder: (column: K) => V,
): Record<K, V> {
  return Object.fromEntries(columns.map((column) => [column, placeholder(column)])) as Record<K, V>;
}
