import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: sorts as it counts.

let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(16);

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = (ALPHABET[rest % 32] ?? '0') + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 32];
  return out;
}

/** Adds one to the random part so ids made in the same millisecond still sort in order. */
function increment(bytes: Uint8Array): Uint8Array {
  const next = Uint8Array.from(bytes, (b) => b % 32);
  for (let i = next.length - 1; i >= 0; i--) {
    const value = (next[i] ?? 0) + 1;
    if (value < 32) {
      next[i] = value;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

/**
 * A ULID-style id with a type prefix. Ids made by one process sort in creation order
 * (monotonic within a millisecond), which the job queue and pagination rely on.
 *
 * @example
 * newId('job'); // 'job_01JD3Q9M7Z4K2W8XG5N0R3T6VB'
 */
export function newId(prefix: string, now = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = Uint8Array.from(randomBytes(16), (b) => b % 32);
  }
  return `${prefix}_${encodeTime(lastTime)}${encodeRandom(lastRandom)}`;
}
