import { z } from 'zod';

/** A model's worker pool on the answering origin: its load, device, threads and memory. */
export const modelPoolSchema = z
  .object({
    status: z
      .enum(['loading', 'ready', 'failed'])
      .describe('`loading`: jobs for it get 503 not_ready until it is `ready`'),
    device: z.string().describe('`cpu`, or `cuda`'),
    threads: z.number().int().min(1).describe('worker threads, each holding its own sessions'),
    intraOpThreads: z.number().int().min(1),
    loadMs: z.number().int().min(0).describe('while loading: for how long so far; then: how long'),
    memory: z.object({
      estimatedBytes: z.number().int().min(0).describe('what its threads hold, estimated at start'),
      estimatedFrom: z
        .enum(['files', 'manifest', 'deployment'])
        .describe(
          '`files`: its ONNX files plus a thread; else the bytes a manifest or MODELS_FILE gave',
        ),
      measuredBytes: z
        .number()
        .int()
        .min(0)
        .nullable()
        .describe("the process's RSS growth over its load; null until loaded"),
      measuredAlone: z
        .boolean()
        .describe('false when another pool loaded at the same time (its growth counted in)'),
    }),
    error: z.string().nullable(),
  })
  .meta({ id: 'ModelPool' });
export type ModelPool = z.infer<typeof modelPoolSchema>;

/** One entry of `GET /v1/models`. */
export const modelInfoSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    description: z.string(),
    cost: z.number().int().min(0).describe('credits per job'),
    input: z.record(z.string(), z.unknown()).describe("the model's input, as a JSON Schema"),
    output: z.object({
      contentType: z.string(),
      formats: z.array(z.string()).describe('the formats a job may ask for (`format`)'),
    }),
    ready: z.boolean(),
    pool: modelPoolSchema,
  })
  .meta({ id: 'ModelInfo' });
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** Answer of `GET /v1/models`. */
export const modelListSchema = z
  .object({ data: z.array(modelInfoSchema) })
  .meta({ id: 'ModelList' });
export type ModelList = z.infer<typeof modelListSchema>;
