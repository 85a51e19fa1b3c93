import { mp3FrameAt, mp3Frames } from './mp3-frames.ts';

/** The audio an upload may be, by the content types that name it; stored as the first. */
export const uploadKinds = {
  wav: ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'],
  mp3: ['audio/mpeg', 'audio/mp3'],
  flac: ['audio/flac', 'audio/x-flac'],
  ogg: ['audio/ogg', 'application/ogg'],
} as const;
export type UploadKind = keyof typeof uploadKinds;

/**
 * The kind a content type names (parameters ignored, case-insensitive), or undefined: a type
 * that is not an upload this server takes.
 *
 * @example
 * kindOf('audio/x-wav; codecs=1'); // 'wav'
 */
export function kindOf(contentType: string): UploadKind | undefined {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  for (const [kind, types] of Object.entries(uploadKinds)) {
    if ((types as readonly string[]).includes(type)) return kind as UploadKind;
  }
  return undefined;
}

const ascii = (bytes: Uint8Array, at: number, length = 4) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

/** A RIFF/WAVE file: a `fmt ` chunk of a format it names, and its `data` chunk whole. */
function checkWav(bytes: Uint8Array): string | undefined {
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') {
    return 'not a RIFF/WAVE file';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format = false;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    if (at + 8 + size > bytes.length) return `its ${id.trim()} chunk runs past the end`;
    if (id === 'fmt ') {
      if (size < 16) return 'its fmt chunk is too short';
      const code = view.getUint16(at + 8, true);
      const channels = view.getUint16(at + 10, true);
      const rate = view.getUint32(at + 12, true);
      const bits = view.getUint16(at + 22, true);
      if (![1, 3, 0xfffe].includes(code)) return `format ${code} is not PCM or float`;
      if (channels < 1 || channels > 8 || rate < 1 || rate > 384_000 || bits < 8 || bits > 32) {
        return `${channels} channels at ${rate} Hz, ${bits} bits: not audio this server reads`;
      }
      format = true;
    } else if (id === 'data') {
      return format ? undefined : 'its data comes before its fmt chunk';
    }
    at += 8 + size + (size % 2);
  }
  return 'no data chunk';
}

/** An MP3: an optional ID3v2 tag, then Layer III frames to the end (or to an ID3v1 tag). */
function checkMp3(bytes: Uint8Array): string | undefined {
  let start = 0;
  if (ascii(bytes, 0, 3) === 'ID3' && bytes.length >= 10) {
    // The tag's size: four 7-bit bytes (synchsafe), after the 10-byte header.
    const [a = 0, b = 0, c = 0, d = 0] = bytes.subarray(6, 10);
    start = 10 + ((a << 21) | (b << 14) | (c << 7) | d);
  }
  const end =
    bytes.length >= 128 && ascii(bytes, bytes.length - 128, 3) === 'TAG'
      ? bytes.length - 128
      : bytes.length;
  const first = mp3FrameAt(bytes, start);
  if (typeof first === 'string') return first;
  try {
    mp3Frames(bytes, start, end);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A FLAC stream: `fLaC`, then its STREAMINFO block with a sample rate and channels. */
function checkFlac(bytes: Uint8Array): string | undefined {
  if (bytes.length < 42 || ascii(bytes, 0) !== 'fLaC') return 'no fLaC marker';
  const type = (bytes[4] ?? 0) & 0x7f;
  const length = ((bytes[5] ?? 0) << 16) | ((bytes[6] ?? 0) << 8) | (bytes[7] ?? 0);
  if (type !== 0 || length !== 34) return 'its first metadata block is not a STREAMINFO';
  // Sample rate: 20 bits from byte 18 of the file (10 into STREAMINFO).
  const rate = ((bytes[18] ?? 0) << 12) | ((bytes[19] ?? 0) << 4) | ((bytes[20] ?? 0) >> 4);
  if (rate === 0 || rate > 655_350) return `a sample rate of ${rate} Hz`;
  return undefined;
}

/** CRC-32 as Ogg computes it (polynomial 0x04C11DB7, no reflection, no final xor). */
const oggCrcTable = Uint32Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

/** An Ogg stream: its first page whole, version 0, its checksum right. */
function checkOgg(bytes: Uint8Array): string | undefined {
  if (bytes.length < 27 || ascii(bytes, 0) !== 'OggS') return 'no OggS capture pattern';
  if (bytes[4] !== 0) return `Ogg version ${bytes[4]}`;
  const segments = bytes[26] ?? 0;
  const table = bytes.subarray(27, 27 + segments);
  const length = 27 + segments + table.reduce((sum, n) => sum + n, 0);
  if (table.length < segments || length > bytes.length) return 'its first page runs past the end';
  const page = bytes.slice(0, length);
  const view = new DataView(page.buffer);
  const stored = view.getUint32(22, true);
  view.setUint32(22, 0, true);
  let crc = 0;
  for (const byte of page)
    crc = ((crc << 8) ^ (oggCrcTable[((crc >>> 24) ^ byte) & 0xff] ?? 0)) >>> 0;
  return crc === stored ? undefined : 'its first page fails its checksum';
}

const checks: Record<UploadKind, (bytes: Uint8Array) => string | undefined> = {
  wav: checkWav,
  mp3: checkMp3,
  flac: checkFlac,
  ogg: checkOgg,
};

/**
 * Whether `bytes` are what `kind` says, read as a player would start reading them (WAV: its
 * chunks; MP3: every frame; FLAC: its STREAMINFO; Ogg: its first page's checksum). Answers
 * why not, or undefined.
 *
 * @example
 * const why = whyNot('wav', bytes); // 'no data chunk'
 */
export function whyNot(kind: UploadKind, bytes: Uint8Array): string | undefined {
  return checks[kind](bytes);
}
