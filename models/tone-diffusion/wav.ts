/**
 * 16-bit PCM WAV encoding (what tone-diffusion returns) and a small decoder that tests and
 * tools can use to read such files back.
 */

const HEADER_BYTES = 44;
const PCM_FORMAT = 1;

/**
 * Encodes mono float samples in [-1, 1] as a 16-bit PCM WAV file with the canonical 44-byte
 * RIFF header. Out-of-range samples are clamped (a model glitch must not wrap around into
 * loud noise) and NaN becomes silence.
 */
export function encodeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`invalid sample rate: ${sampleRate}`);
  }
  const channels = 1;
  const bytesPerSample = 2;
  const dataBytes = samples.length * bytesPerSample * channels;
  const bytes = new Uint8Array(HEADER_BYTES + dataBytes);
  const view = new DataView(bytes.buffer);
  writeAscii(view, 0, 'RIFF');
  view.setUint32(4, HEADER_BYTES - 8 + dataBytes, true);
  writeAscii(view, 8, 'WAVE');
  writeAscii(view, 12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size for plain PCM
  view.setUint16(20, PCM_FORMAT, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPerSample, true); // byte rate
  view.setUint16(32, channels * bytesPerSample, true); // block align
  view.setUint16(34, bytesPerSample * 8, true);
  writeAscii(view, 36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] ?? 0;
    const clamped = Number.isNaN(s) ? 0 : Math.max(-1, Math.min(1, s));
    // Symmetric scaling: +1 → 32767, -1 → -32767, so the waveform is not skewed.
    view.setInt16(HEADER_BYTES + i * bytesPerSample, Math.round(clamped * 32767), true);
  }
  return bytes;
}

/** A decoded PCM WAV file; `samples` are interleaved when there are several channels. */
export interface DecodedWav {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  readonly samples: Float32Array;
}

/**
 * Decodes a 16-bit PCM WAV file into float samples (int / 32767, the inverse of encodeWav).
 * Walks the RIFF chunks, so files with extra chunks (LIST, fact…) are read too. Throws on
 * anything else, which is what a test wants.
 */
export function decodeWav(bytes: Uint8Array): DecodedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || readAscii(view, 0) !== 'RIFF' || readAscii(view, 8) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let format: { sampleRate: number; channels: number; bitsPerSample: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = readAscii(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (body + size > bytes.length) throw new Error(`chunk "${id}" runs past the end of the file`);
    if (id === 'fmt ') {
      if (view.getUint16(body, true) !== PCM_FORMAT) throw new Error('not PCM');
      format = {
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
      if (format.bitsPerSample !== 16) {
        throw new Error(`${format.bitsPerSample}-bit PCM is not supported`);
      }
    } else if (id === 'data') {
      if (!format) throw new Error('data chunk before fmt chunk');
      const samples = new Float32Array(Math.floor(size / 2));
      for (let i = 0; i < samples.length; i++) {
        samples[i] = view.getInt16(body + i * 2, true) / 32767;
      }
      return { ...format, samples };
    }
    offset = body + size + (size % 2); // chunks are padded to an even length
  }
  throw new Error('no data chunk');
}

function writeAscii(view: DataView, offset: number, text: string): void {
  for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
}

function readAscii(view: DataView, offset: number): string {
  let text = '';
  for (let i = 0; i < 4; i++) text += String.fromCharCode(view.getUint8(offset + i));
  return text;
}
