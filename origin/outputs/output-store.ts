/**
 * Where job outputs are kept: on this origin's disk (`outputFiles`, one origin) or in the
 * edge's R2 bucket (`edgeOutputs`, a cluster: any origin, and the edge itself, serves them).
 * A write resolves only once the output is durable there: a job is marked `succeeded` after
 * it, so "succeeded with no output" cannot happen.
 */
/**
 * The name an attempt's output is stored under (`<job id>.<attempt>`, then the extension): its
 * own, so an attempt taken back while it still ran (its origin paused past its lease) can
 * neither overwrite the output of the attempt that won nor remove it when its own end is
 * refused.
 */
export const attemptOutputName = (jobId: string, attempt: number): string => `${jobId}.${attempt}`;

export interface OutputStore {
  /**
   * Stores an output under `name` (`attemptOutputName`) and the extension; answers its key
   * (kept on the job).
   */
  write(name: string, extension: string, bytes: Uint8Array, contentType: string): Promise<string>;
  remove(key: string): Promise<void>;
  /**
   * Removes temporary files a killed process left behind: all of them, or (when other
   * processes may be writing there) those last written before `before`.
   */
  removeTemporary(before?: number): void;
  /** Where a stored output is read from; undefined when it is gone. */
  locate(key: string): Promise<OutputLocation | undefined>;
  /** A stored object's bytes (an uploaded file a job reads); undefined when it is gone. */
  read(key: string): Promise<Uint8Array | undefined>;
}

/** A file this origin streams, an object the edge streams from its bucket, or bytes kept with the job. */
export type OutputLocation =
  | { at: 'file'; path: string; size: number }
  | { at: 'edge'; key: string }
  | { at: 'inline'; bytes: Uint8Array; size: number };
