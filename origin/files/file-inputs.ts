import { ApiError } from '../../shared/errors.ts';
import type { ModelRegistry } from '../inference/models/registry.ts';
import type { OutputStore } from '../outputs/output-store.ts';
import type { FileStore } from '../store/store.ts';

/** The JSON Schema `format` that marks a job input field as an uploaded file's id. */
export const fileFormat = 'overture-file';
/** What such an id looks like (`POST /v1/files` makes them). */
export const fileIdPattern = /^file_[0-9A-Za-z]{10,40}$/;

/** A field of a model's input that takes a file, and the media types it takes (`audio/*`). */
export interface FileField {
  name: string;
  mediaType: string | undefined;
}

/**
 * The top-level properties of an input schema marked `"format": "overture-file"`, with their
 * `contentMediaType`.
 *
 * @example
 * fileFields({ properties: { reference: { type: 'string', format: 'overture-file' } } });
 */
export function fileFields(schema: Record<string, unknown>): FileField[] {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(properties)
    .filter(([, p]) => p?.format === fileFormat)
    .map(([name, p]) => ({
      name,
      mediaType: typeof p.contentMediaType === 'string' ? p.contentMediaType : undefined,
    }));
}

/** Whether `contentType` is one of `mediaType` (`audio/*`, `audio/wav`; undefined: any). */
export const takes = (mediaType: string | undefined, contentType: string): boolean =>
  mediaType === undefined ||
  (mediaType.endsWith('/*')
    ? contentType.startsWith(mediaType.slice(0, -1))
    : contentType === mediaType);

/**
 * Checks, at a job's creation, each file its input names: the caller's, not expired, of a
 * type the field takes. Answers 400 `invalid_request` naming the field otherwise.
 */
export async function checkFileInputs(
  files: Pick<FileStore, 'get'>,
  fields: readonly FileField[],
  userId: string,
  input: Record<string, unknown>,
): Promise<void> {
  for (const field of fields) {
    const id = input[field.name];
    if (typeof id !== 'string') continue;
    const file = await files.get(userId, id, Date.now());
    const path = `input.${field.name}`;
    if (!file) {
      throw new ApiError('invalid_request', `No file ${id} of yours: upload it first.`, {
        details: [{ path, message: 'no such file (POST /v1/files), or it has expired' }],
      });
    }
    if (!takes(field.mediaType, file.contentType)) {
      throw new ApiError('invalid_request', `This model takes ${field.mediaType} there.`, {
        details: [{ path, message: `${file.contentType} is not ${field.mediaType}` }],
      });
    }
  }
}

/** A file a job's input names was deleted or expired before the job ran. */
export class FileGoneError extends Error {
  override name = 'FileGoneError';
}

/** What a processor gets for a file field: the file's id, its type and its bytes. */
export interface FileInput {
  id: string;
  contentType: string;
  bytes: Uint8Array;
}

/**
 * The input a job's task gets: each file id replaced by the file itself (`FileInput`), read
 * from the outputs' store when the job starts. Throws `FileGoneError` for one that is gone.
 *
 * @example
 * const resolve = fileInputResolver({ models, files: store.files, outputs });
 * const input = await resolve(job);
 */
export function fileInputResolver(deps: {
  models: Pick<ModelRegistry, 'get'>;
  files: Pick<FileStore, 'get'>;
  outputs: Pick<OutputStore, 'read'>;
}) {
  return async (job: {
    model: string;
    userId: string;
    input: Record<string, unknown>;
  }): Promise<Record<string, unknown>> => {
    const fields = deps.models.get(job.model)?.fileFields ?? [];
    if (fields.every((f) => typeof job.input[f.name] !== 'string')) return job.input;
    const input = { ...job.input };
    for (const field of fields) {
      const id = input[field.name];
      if (typeof id !== 'string') continue;
      const file = await deps.files.get(job.userId, id, Date.now());
      const bytes = file && (await deps.outputs.read(file.storageKey));
      if (!file || !bytes) throw new FileGoneError(`file ${id} (${field.name}) is gone`);
      input[field.name] = { id, contentType: file.contentType, bytes } satisfies FileInput;
    }
    return input;
  };
}
