import type { InferenceSession, Tensor } from 'onnxruntime-node';

/**
 * What the engine hands a model's processor for one job, inside a worker thread.
 * A processor turns a validated job input into tensors, runs the model's sessions, and
 * turns their output tensors into the bytes of one output file.
 */
export interface ProcessorContext {
  /** The sessions the manifest names, created once per worker thread and reused. */
  readonly sessions: Readonly<Record<string, InferenceSession>>;
  /** onnxruntime's Tensor class, so a model folder needs no onnxruntime import of its own. */
  readonly Tensor: typeof Tensor;
  /**
   * Reports that `done` of `total` steps are finished. Throws an `AbortError` when the job
   * was canceled or timed out, so a processor that calls it between steps stops there.
   */
  step(done: number, total: number): void;
  /** True once the job was asked to stop. */
  readonly aborted: boolean;
}

/** The single output file of a job. */
export interface ProcessorOutput {
  readonly bytes: Uint8Array;
}

/**
 * The default export of a model's processor module (the manifest's `processor` file).
 *
 * @example
 * const processor: ModelProcessor = {
 *   async run(input, ctx) {
 *     const out = await ctx.sessions.main.run({ x: new ctx.Tensor('float32', [1], [1]) });
 *     ctx.step(1, 1);
 *     return { bytes: new Uint8Array(0) };
 *   },
 * };
 * export default processor;
 */
export interface ModelProcessor {
  /** `input` has passed the manifest's JSON Schema, defaults applied. */
  run(input: unknown, ctx: ProcessorContext): Promise<ProcessorOutput>;
}
