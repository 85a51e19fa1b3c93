import { z } from 'zod';
import { outputFormatNames } from '../../../shared/output-formats.ts';

/**
 * How a model's worker pool runs: on which device, with how many threads, and what a thread
 * holds in memory. Every field is optional: what neither the deployment file nor the manifest
 * says is decided by `planPools`.
 */
export const poolSettingsSchema = z.strictObject({
  /** Worker threads, each with its own sessions: jobs of this model that run at once. */
  threads: z.number().int().min(1).max(256).optional(),
  /** onnxruntime's intra-op threads of each session. */
  intraOpThreads: z.number().int().min(1).max(256).optional(),
  device: z.enum(['cpu', 'cuda']).optional(),
  /** The CUDA device (`cuda` only). */
  deviceId: z.number().int().min(0).max(63).optional(),
  /**
   * What one thread holds once loaded, in bytes, when the model's author or operator knows it
   * better than the estimate from its ONNX files' sizes.
   */
  memoryBytesPerThread: z.number().int().min(0).optional(),
});
export type PoolSettings = z.infer<typeof poolSettingsSchema>;

const fileName = z
  .string()
  .min(1)
  .refine((f) => !f.includes('/') && !f.includes('\\') && !f.startsWith('.'), {
    message: 'must be a file name inside the model folder',
  });

/** `manifest.json` of a model folder. */
export const manifestSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes'),
  version: z.string().min(1).max(50),
  description: z.string().max(500).default(''),
  /** Credits one job costs. */
  cost: z.number().int().min(0),
  /** JSON Schema of the job input; `default`s are applied before the job is stored. */
  input: z.record(z.string(), z.unknown()),
  output: z.strictObject({
    contentType: z.string().min(3),
    extension: z.string().regex(/^[a-z0-9]{1,10}$/),
    /**
     * The formats a job may ask for: the model's own (`wav`), and those the engine encodes
     * from it (`mp3`). Only a model that makes WAV may offer others. Default: none to choose.
     */
    formats: z.array(z.enum(outputFormatNames)).min(1).optional(),
  }),
  /** The pre/post-processing module, default-exporting a `ModelProcessor`. */
  processor: fileName,
  /** ONNX files by the name the processor uses; each worker thread creates them once. */
  sessions: z.record(z.string(), fileName).default({}),
  /** An input run once by every worker before the origin reports ready. */
  warmup: z.record(z.string(), z.unknown()),
  /**
   * The model's own pool defaults, which a deployment file (`MODELS_FILE`) overrides: see
   * `poolSettingsSchema` (`origin/inference/pool-plan.ts`).
   */
  pool: poolSettingsSchema.default({}),
});

export type Manifest = z.infer<typeof manifestSchema>;
