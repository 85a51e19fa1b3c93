/**
 * The model's fixed shapes and timing, and the pre-processing that turns a job's prompt and
 * seed into the denoiser's `cond` and initial `latent`. The build script imports the same
 * constants, so the graphs and the processor cannot disagree about a shape.
 */
import { createHash } from 'node:crypto';

/** Length of the prompt conditioning vector `cond` (one SHA-256 digest per word). */
export const COND_SIZE = 32;
/** Beats in one phrase; the phrase loops over the whole duration. */
export const BEATS = 16;
/** Simultaneous voices (bass, middle, high). */
export const VOICES = 3;
/** Latent length: a pitch and an amplitude per voice per beat. */
export const LATENT_SIZE = BEATS * VOICES * 2;
/** Beats per second (120 bpm), so a phrase lasts BEATS / BEATS_PER_SECOND = 8 seconds. */
export const BEATS_PER_SECOND = 2;
/** Output sample rate in Hz. */
export const SAMPLE_RATE = 22050;

/**
 * The prompt as a bag of hashed words: each lower-cased word's SHA-256 digest becomes 32
 * values in [-1, 1], the words are summed, and the sum is scaled to unit RMS. A stand-in for a
 * text encoder: deterministic, and prompts that share words get related conditioning.
 */
export function promptToCond(prompt: string): Float32Array {
  const words: string[] = prompt.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  // A prompt of punctuation only still deserves its own sound, so hash it whole.
  if (words.length === 0) words.push(prompt);
  const sum = new Float64Array(COND_SIZE);
  for (const word of words) {
    const digest = createHash('sha256').update(word, 'utf8').digest();
    for (let i = 0; i < COND_SIZE; i++) sum[i] = (sum[i] ?? 0) + (digest[i] ?? 0) / 127.5 - 1;
  }
  const rms = Math.sqrt(sum.reduce((acc, v) => acc + v * v, 0) / COND_SIZE);
  return Float32Array.from(sum, (v) => (rms > 0 ? v / rms : 0));
}

/** Standard-normal initial noise for the denoiser, fully determined by `seed`. */
export function seedToNoise(seed: number): Float32Array {
  return gaussian(mulberry32(seed), LATENT_SIZE);
}

/**
 * mulberry32: a tiny 32-bit PRNG with good enough statistics for noise and weights, and the
 * same sequence on every platform (it only uses 32-bit integer arithmetic).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` standard-normal samples from a uniform source (Box-Muller). */
export function gaussian(random: () => number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    // 1 - u keeps the logarithm's argument in (0, 1].
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const theta = 2 * Math.PI * random();
    out[i] = r * Math.cos(theta);
    if (i + 1 < count) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}
