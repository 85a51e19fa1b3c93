/**
 * Where job outputs are kept: on this origin's disk (`outputFiles`, one origin) or in the
 * edge's R2 bucket (`edgeOutputs`, a cluster: any origin, and the edge itself, serves them).
 * A write resolves only once the output is durable there: a job is marked `succeeded` after
 * it, so "succeeded with no output" cannot happen.
 */
export interface OutputStore {
  /** Stores a job's output; answers its key (kept on the job). */
  write(jobId: string, extension: string, bytes: Uint8Array, contentType: string): Promise<string>;
  remove(key: string): Promise<void>;
  /**
   * Removes temporary files a killed process left behind: all of them, or (when other
   * processes may be writing there) those last written before `before`.
   */
  removeTemporary(before?: number): void;
  /** Where a stored output is read from; undefined when it is gone. */
  locate(key: string): Promise<OutputLocation | undefined>;
}

/** A file this origin streams, an object the edge streams from its bucket, or bytes kept with the job. */
export type OutputLocation =
  | { at: 'file'; path: string; size: number }
  | { at: 'edge'; key: string }
  | { at: 'inline'; bytes: Uint8Array; size: number };
