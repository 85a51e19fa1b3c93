import type { JobStore } from '../store/store.ts';
import type { OutputLocation, OutputStore } from './output-store.ts';

const prefix = 'inline:';

/** The key of an output kept in the database with its job (`JobOutputRecord.inline`). */
export const inlineOutputKey = (jobId: string): string => `${prefix}${jobId}`;

/**
 * `outputs` and the outputs kept in the database: a small output is written by the
 * transaction that ends its job (the scheduler decides, by `INLINE_OUTPUT_MAX_BYTES`), so it
 * costs no file, fsync and rename of its own (measured: a third of the no-op job path's main
 * thread went to the output file). This store reads and removes them by their key; every
 * other key is `outputs`'.
 */
export function withInlineOutputs(
  outputs: OutputStore,
  jobs: Pick<JobStore, 'inlineOutput' | 'removeInlineOutput'>,
): OutputStore {
  const jobOf = (key: string) => (key.startsWith(prefix) ? key.slice(prefix.length) : undefined);
  return {
    write: (name, extension, bytes, contentType) =>
      outputs.write(name, extension, bytes, contentType),
    async remove(key) {
      const jobId = jobOf(key);
      return jobId === undefined ? outputs.remove(key) : jobs.removeInlineOutput(jobId);
    },
    removeTemporary: (before) => outputs.removeTemporary(before),
    read: (key) => outputs.read(key),
    async locate(key): Promise<OutputLocation | undefined> {
      const jobId = jobOf(key);
      if (jobId === undefined) return outputs.locate(key);
      const bytes = await jobs.inlineOutput(jobId);
      return bytes && { at: 'inline', bytes, size: bytes.byteLength };
    },
  };
}
