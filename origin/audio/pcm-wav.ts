/** A 16-bit PCM WAV file's samples, one Int16Array per channel. */
export interface PcmAudio {
  sampleRate: number;
  channels: Int16Array[];
}

/** Raised when bytes are not a 16-bit PCM WAV file; the message says what is wrong. */
export class NotPcmWavError extends Error {
  override name = 'NotPcmWavError';
}

const ascii = (view: DataView, at: number) =>
  String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );

/**
 * Reads a 16-bit PCM WAV file (RIFF chunks walked, so extra chunks are skipped) into its
 * channels: what the MP3 encoder takes.
 *
 * @example
 * const { sampleRate, channels } = readPcmWav(bytes);
 */
export function readPcmWav(bytes: Uint8Array): PcmAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || ascii(view, 0) !== 'RIFF' || ascii(view, 8) !== 'WAVE') {
    throw new NotPcmWavError('not a RIFF/WAVE file');
  }
  let format: { channels: number; sampleRate: number; bits: number; code: number } | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(view, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= bytes.length) {
      format = {
        code: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!format) throw new NotPcmWavError('data before its fmt chunk');
      if (format.code !== 1 || format.bits !== 16) {
        throw new NotPcmWavError(`not 16-bit PCM (format ${format.code}, ${format.bits} bits)`);
      }
      if (format.channels < 1 || format.channels > 2) {
        throw new NotPcmWavError(`${format.channels} channels: 1 or 2 are encoded`);
      }
      const frames = Math.floor(Math.min(size, bytes.length - body) / (2 * format.channels));
      const channels = Array.from({ length: format.channels }, () => new Int16Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < format.channels; c++) {
          (channels[c] as Int16Array)[i] = view.getInt16(
            body + (i * format.channels + c) * 2,
            true,
          );
        }
      }
      return { sampleRate: format.sampleRate, channels };
    }
    at = body + size + (size % 2);
  }
  throw new NotPcmWavError('no data chunk');
}
