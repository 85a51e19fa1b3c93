import { BEATS_PER_SECOND } from './conditioning.ts';

/**
 * The tempo of a reference clip, for tone-diffusion's `reference` input: note onsets found in
 * its energy, per second, taken as beats per second (one note a beat, as the model plays).
 */

/** Energy frames of 10 ms. */
const FRAME_SECONDS = 0.01;
/** An onset is a frame this many times louder than the mean of the frames just before it. */
const RISE = 3;
const HISTORY_FRAMES = 5;
/** Two onsets are at least this far apart. */
const REFRACTORY_SECONDS = 0.06;
/** Quieter than this share of the loudest frame: never an onset. */
const FLOOR = 0.05;

/** The beats per second a reference may set, and the model's own without one (120 bpm). */
export const MIN_BPS = 0.5;
export const MAX_BPS = 8;
export const DEFAULT_BPS = BEATS_PER_SECOND;

/**
 * Onsets per second of mono `samples`: where the energy jumps.
 *
 * @example
 * onsetsPerSecond(clickTrack(4), 22050); // ≈ 4
 */
export function onsetsPerSecond(samples: Float32Array, sampleRate: number, rise = RISE): number {
  const frame = Math.max(1, Math.round(FRAME_SECONDS * sampleRate));
  const frames = Math.floor(samples.length / frame);
  if (frames === 0) return 0;
  const energy = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += (samples[i] ?? 0) ** 2;
    energy[f] = sum / frame;
  }
  const loudest = energy.reduce((a, b) => Math.max(a, b), 0);
  const refractory = Math.round(REFRACTORY_SECONDS / FRAME_SECONDS);
  let onsets = 0;
  let last = -refractory;
  for (let f = 0; f < frames; f++) {
    // Before the first frame is silence: a clip that starts on a note counts it.
    const from = Math.max(0, f - HISTORY_FRAMES);
    let before = 0;
    for (let k = from; k < f; k++) before += energy[k] ?? 0;
    before /= Math.max(1, f - from);
    const e = energy[f] ?? 0;
    if (e > FLOOR * loudest && e > rise * before && f - last >= refractory) {
      onsets++;
      last = f;
    }
  }
  return onsets / (samples.length / sampleRate);
}

/** The beats per second a reference sets: its onset rate, within [MIN_BPS, MAX_BPS]. */
export function referenceTempo(samples: Float32Array, sampleRate: number): number {
  const rate = onsetsPerSecond(samples, sampleRate);
  return rate > 0 ? Math.min(MAX_BPS, Math.max(MIN_BPS, rate)) : DEFAULT_BPS;
}
