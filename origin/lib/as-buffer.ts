/** A Buffer over the same bytes (no copy): what the database drivers bind as a BLOB / `bytea`. */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
