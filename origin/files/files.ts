import { createHash } from 'node:crypto';
import { ApiError } from '../../shared/errors.ts';
import type { FileInfo } from '../../shared/schemas/files.ts';
import { kindOf, uploadKinds, whyNot } from '../audio/check-upload.ts';
import { newId } from '../lib/ids.ts';
import type { Services } from '../services.ts';
import type { FileRecord } from '../store/store.ts';

type Deps = Pick<Services, 'env' | 'store' | 'outputs' | 'logger'>;

const iso = (ms: number) => new Date(ms).toISOString();

/** The public shape of a file (API.md "Files"). */
export const toFileInfo = (file: FileRecord): FileInfo => ({
  id: file.id,
  name: file.name,
  contentType: file.contentType,
  bytes: file.bytes,
  createdAt: iso(file.createdAt),
  expiresAt: iso(file.expiresAt),
});

/**
 * Stores an upload: its type one this server takes (else 415), within the type's size (413),
 * the bytes what the type says (400 `invalid_file`, with why), the user under their number of
 * files (429 `too_many_files`). The bytes go to the outputs' store first (disk, or the edge's
 * R2), then the record: a file listed always has its bytes.
 *
 * @example
 * const file = await uploadFile(services, userId, 'audio/wav', bytes, 'take 1.wav');
 */
export async function uploadFile(
  deps: Deps,
  userId: string,
  contentType: string,
  bytes: Uint8Array,
  name: string | undefined,
): Promise<FileInfo> {
  const kind = kindOf(contentType);
  if (!kind) {
    throw new ApiError(
      'unsupported_media_type',
      `Files of type ${contentType || '(none)'} are not taken: send audio/wav, audio/mpeg, audio/flac or audio/ogg.`,
    );
  }
  const max = deps.env.FILE_MAX_AUDIO_BYTES;
  if (bytes.byteLength > max) {
    throw new ApiError('payload_too_large', `An audio file may have at most ${max} bytes.`);
  }
  const why = whyNot(kind, bytes);
  if (why !== undefined) {
    throw new ApiError(
      'invalid_file',
      `The file is not the ${kind.toUpperCase()} it says: ${why}.`,
      {
        details: [{ path: 'body', message: why }],
      },
    );
  }
  const at = Date.now();
  const id = newId('file', at);
  const canonical = uploadKinds[kind][0];
  const storageKey = await deps.outputs.write(id, kind, bytes, canonical);
  const record: FileRecord = {
    id,
    userId,
    name: name ?? null,
    contentType: canonical,
    bytes: bytes.byteLength,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    storageKey,
    createdAt: at,
    expiresAt: at + deps.env.FILE_TTL,
  };
  const kept = await deps.store.files.create(record, deps.env.FILE_MAX_PER_USER);
  if (!kept) {
    await deps.outputs.remove(storageKey);
    throw new ApiError(
      'too_many_files',
      `You keep ${deps.env.FILE_MAX_PER_USER} files, the most one account may; delete some first.`,
      { retryAfter: 60 },
    );
  }
  return toFileInfo(record);
}

/** The user's file (404 for another user's, a missing or an expired one: the same answer). */
export async function findFile(deps: Deps, userId: string, id: string): Promise<FileRecord> {
  const file = await deps.store.files.get(userId, id, Date.now());
  if (!file) throw new ApiError('not_found', 'No such file.');
  return file;
}

/** Deletes the user's file, then its bytes (404 as `findFile`). */
export async function deleteFile(deps: Deps, userId: string, id: string): Promise<void> {
  const file = await deps.store.files.remove(userId, id);
  if (!file) throw new ApiError('not_found', 'No such file.');
  await deps.outputs.remove(file.storageKey).catch((error: unknown) => {
    deps.logger.warn({ fileId: id, err: error }, 'file bytes left behind');
  });
}
