import { z } from 'zod';

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
  }),
  /** The pre/post-processing module, default-exporting a `ModelProcessor`. */
  processor: fileName,
  /** ONNX files by the name the processor uses; each worker thread creates them once. */
  sessions: z.record(z.string(), fileName).default({}),
  /** An input run once by every worker before the origin reports ready. */
  warmup: z.record(z.string(), z.unknown()),
});

export type Manifest = z.infer<typeof manifestSchema>;
