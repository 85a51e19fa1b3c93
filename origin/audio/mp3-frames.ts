/** Bitrates (kbps) of MPEG-1 and of MPEG-2/2.5 Layer III, by the header's index. */
const bitrates = {
  1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const sampleRates = {
  1: [44_100, 48_000, 32_000],
  2: [22_050, 24_000, 16_000],
  2.5: [11_025, 12_000, 8_000],
};

/** One MPEG audio Layer III frame header, read at a byte offset. */
export interface Mp3Frame {
  sampleRate: number;
  kbps: number;
  channels: number;
  /** Samples per channel the frame holds. */
  samples: number;
  /** The frame's length in bytes, header included. */
  length: number;
}

/**
 * The Layer III frame whose header starts at `at`, or why there is none.
 *
 * @example
 * const frame = mp3FrameAt(bytes, 0);
 */
export function mp3FrameAt(bytes: Uint8Array, at: number): Mp3Frame | string {
  if (at + 4 > bytes.length) return `no frame header at byte ${at}`;
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = bytes.subarray(at, at + 4);
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return `no frame sync at byte ${at}`;
  const versionBits = (b1 >> 3) & 3;
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : versionBits === 0 ? 2.5 : 0;
  if (version === 0 || ((b1 >> 1) & 3) !== 1) return `not MPEG Layer III at byte ${at}`;
  const kbps = bitrates[version === 1 ? 1 : 2][b2 >> 4] ?? 0;
  const sampleRate = sampleRates[version][(b2 >> 2) & 3] ?? 0;
  if (kbps === 0 || sampleRate === 0) return `bad bitrate or sample rate at byte ${at}`;
  const padding = (b2 >> 1) & 1;
  const samples = version === 1 ? 1152 : 576;
  const length = Math.floor(((samples / 8) * kbps * 1000) / sampleRate) + padding;
  return { sampleRate, kbps, channels: b3 >> 6 === 3 ? 1 : 2, samples, length };
}

/** What the frames of an MP3 file say: walked header by header, as a player does. */
export interface Mp3Summary {
  frames: number;
  sampleRate: number;
  kbps: number;
  channels: number;
  /** Samples per channel the frames hold, over the sample rate. */
  seconds: number;
}

/**
 * Walks the Layer III frames of `bytes` from `start` to the last byte: throws at anything that
 * is not the next frame's header, so a file that is not an MP3 all the way through fails.
 *
 * @example
 * const { seconds, sampleRate } = mp3Frames(bytes);
 */
export function mp3Frames(bytes: Uint8Array, start = 0, end = bytes.length): Mp3Summary {
  let at = start;
  let frames = 0;
  let first: Mp3Frame | undefined;
  let samples = 0;
  while (at + 4 <= end) {
    const frame = mp3FrameAt(bytes, at);
    if (typeof frame === 'string') throw new Error(frame);
    first ??= frame;
    samples += frame.samples;
    frames++;
    at += frame.length;
  }
  if (!first || at !== end) throw new Error(`${end - at} bytes after the last frame`);
  const { sampleRate, kbps, channels } = first;
  return { sampleRate, kbps, channels, frames, seconds: samples / sampleRate };
}
