import { Mp3Encoder } from '@breezystack/lamejs';
import type { PcmAudio } from './pcm-wav.ts';

/** Samples per call into the encoder: a multiple of an MP3 frame (1,152). */
const chunk = 1152 * 10;

/**
 * The bitrate of an MP3 of this audio: 128 kbps for 44.1/48 kHz stereo, half that for mono,
 * three quarters of it below 32 kHz (tone-diffusion's 22.05 kHz mono: 48 kbps).
 */
export function mp3Kbps(audio: PcmAudio): number {
  return (64 * audio.channels.length * (audio.sampleRate >= 32_000 ? 4 : 3)) / 4;
}

/**
 * Encodes PCM audio as a constant-bitrate MP3 (lamejs: pure JavaScript, no native download),
 * mono or stereo as the input is.
 *
 * @example
 * const mp3 = encodeMp3(readPcmWav(wavBytes)); // audio/mpeg
 */
export function encodeMp3(audio: PcmAudio, kbps = mp3Kbps(audio)): Uint8Array {
  const [left, right] = audio.channels;
  if (!left) throw new RangeError('no channel to encode');
  const encoder = new Mp3Encoder(audio.channels.length, audio.sampleRate, kbps);
  const parts: Uint8Array[] = [];
  for (let at = 0; at < left.length; at += chunk) {
    const l = left.subarray(at, at + chunk);
    const out = right
      ? encoder.encodeBuffer(l, right.subarray(at, at + chunk))
      : encoder.encodeBuffer(l);
    if (out.length > 0) parts.push(out.slice());
  }
  parts.push(encoder.flush().slice());
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}
