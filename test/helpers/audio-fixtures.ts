import { encodeWav } from '../../models/tone-diffusion/wav.ts';
import { encodeMp3 } from '../../origin/audio/encode-mp3.ts';
import { readPcmWav } from '../../origin/audio/pcm-wav.ts';

/**
 * A click track: `perSecond` short decaying clicks a second for `seconds`, as a 16-bit mono
 * WAV at `rate`: a reference clip whose tempo a test knows.
 */
export function clickTrack(perSecond: number, seconds = 4, rate = 22_050): Uint8Array {
  const samples = new Float32Array(seconds * rate);
  for (let k = 0; k < seconds * perSecond; k++) {
    const at = Math.round((k / perSecond) * rate);
    for (let i = 0; i < 400 && at + i < samples.length; i++) {
      samples[at + i] = Math.sin(i / 3) * Math.exp(-i / 80) * 0.8;
    }
  }
  return encodeWav(samples, rate);
}

/** The same clicks as an MP3. */
export const clickTrackMp3 = (perSecond: number, seconds = 2) =>
  encodeMp3(readPcmWav(clickTrack(perSecond, seconds)));

/** A minimal FLAC stream head: `fLaC` and a STREAMINFO of 22,050 Hz mono, 16 bits. */
export function flacHead(): Uint8Array {
  const bytes = new Uint8Array(42 + 16);
  bytes.set([0x66, 0x4c, 0x61, 0x43]); // fLaC
  bytes.set([0x80, 0, 0, 34], 4); // last metadata block, STREAMINFO, 34 bytes
  // 20 bits of sample rate (22050 = 0x05622), 3 bits channels − 1, 5 bits bits − 1.
  bytes.set([0x05, 0x62, 0x20 | (0 << 1) | 0, 0xf0], 18);
  return bytes;
}

/** CRC-32 as Ogg computes it. */
function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** One Ogg page of `payload`, its checksum right (or, with `corrupt`, wrong). */
export function oggPage(payload: Uint8Array, corrupt = false): Uint8Array {
  const page = new Uint8Array(27 + 1 + payload.length);
  page.set([0x4f, 0x67, 0x67, 0x53, 0, 2]); // OggS, version 0, beginning of stream
  page[26] = 1;
  page[27] = payload.length;
  page.set(payload, 28);
  new DataView(page.buffer).setUint32(22, oggCrc(page) ^ (corrupt ? 1 : 0), true);
  return page;
}
