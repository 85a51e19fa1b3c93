import { z } from 'zod';

/** One entry of `GET /v1/models`. */
export const modelInfoSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    description: z.string(),
    cost: z.number().int().min(0).describe('credits per job'),
    input: z.record(z.string(), z.unknown()).describe("the model's input, as a JSON Schema"),
    output: z.object({ contentType: z.string() }),
    ready: z.boolean(),
  })
  .meta({ id: 'ModelInfo' });
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** Answer of `GET /v1/models`. */
export const modelListSchema = z
  .object({ data: z.array(modelInfoSchema) })
  .meta({ id: 'ModelList' });
