import { z } from 'zod';

const timestamp = z.iso.datetime();

/** The content types an upload may have, as stored (each checked to be what it says). */
export const uploadContentTypes = ['audio/wav', 'audio/mpeg', 'audio/flac', 'audio/ogg'] as const;

/** An uploaded file (API.md "Files"): what a job's input names by its id. */
export const fileSchema = z
  .object({
    id: z.string(),
    /** The name the uploader gave (`?name=`), or null. */
    name: z.string().nullable(),
    contentType: z.string().describe('what the bytes were checked to be: audio/wav, audio/mpeg…'),
    bytes: z.number().int().min(0),
    createdAt: timestamp,
    expiresAt: timestamp.describe('after this the file is gone (404) and its bytes removed'),
  })
  .meta({ id: 'File' });
export type FileInfo = z.infer<typeof fileSchema>;

export const fileListSchema = z.object({ data: z.array(fileSchema) }).meta({ id: 'FileList' });

/** Query of `POST /v1/files`. */
export const uploadQuerySchema = z.strictObject({
  name: z.string().min(1).max(200).optional().describe("a name to show for it (the file's own)"),
});
