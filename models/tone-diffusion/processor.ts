/**
 * tone-diffusion's processor: prompt + seed → conditioning and noise (conditioning.ts),
 * DENOISE_STEPS runs of `denoiser`, then `decoder` one second of samples at a time, then a
 * 16-bit WAV (wav.ts). Progress is reported after every session run, so a canceled job stops
 * at the next step.
 */
import type {
  ModelProcessor,
  ProcessorContext,
  ProcessorOutput,
} from '../../origin/inference/processor.ts';
import {
  BEATS,
  COND_SIZE,
  LATENT_SIZE,
  promptToCond,
  SAMPLE_RATE,
  seedToNoise,
} from './conditioning.ts';
import { DEFAULT_BPS, referenceTempo } from './tempo.ts';
import { decodeWav, encodeWav } from './wav.ts';

/** Denoiser runs per job. */
export const DENOISE_STEPS = 12;
/** Samples rendered per decoder run: one second, so progress moves about once a second. */
export const CHUNK_SAMPLES = SAMPLE_RATE;

const DEFAULT_SEED = 0;
const DEFAULT_DURATION = 8;
const MAX_SEED = 2 ** 31 - 1;

/** A job's input after defaults, mirroring the manifest's JSON Schema. */
export interface ToneInput {
  readonly prompt: string;
  readonly seed: number;
  readonly duration: number;
  /** Beats per second: the reference clip's tempo, or the model's own (120 bpm). */
  readonly beatsPerSecond: number;
}

/** The reference clip as the engine hands it over: the uploaded file's type and bytes. */
interface ReferenceFile {
  contentType: string;
  bytes: Uint8Array;
}

/** The tempo of a reference WAV (its channels mixed), in beats per second. */
function tempoOfReference(reference: unknown): number {
  if (reference === undefined) return DEFAULT_BPS;
  const file = reference as ReferenceFile;
  if (!(file?.bytes instanceof Uint8Array)) {
    throw new TypeError('reference must be an uploaded file (the engine passes its bytes)');
  }
  const wav = decodeWav(file.bytes);
  const mono = new Float32Array(Math.floor(wav.samples.length / wav.channels));
  for (let i = 0; i < mono.length; i++) {
    let sum = 0;
    for (let c = 0; c < wav.channels; c++) sum += wav.samples[i * wav.channels + c] ?? 0;
    mono[i] = sum / wav.channels;
  }
  return referenceTempo(mono, wav.sampleRate);
}

/**
 * Reads a job input. The engine has already validated it against the manifest's schema and
 * applied defaults; this repeats the essentials so a direct caller gets a clear error rather
 * than garbage audio.
 */
export function parseInput(input: unknown): ToneInput {
  const raw = (input ?? {}) as Record<string, unknown>;
  const { prompt } = raw;
  const seed = raw.seed ?? DEFAULT_SEED;
  const duration = raw.duration ?? DEFAULT_DURATION;
  if (typeof prompt !== 'string' || prompt.length === 0) {
    throw new TypeError('prompt must be a non-empty string');
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}]`);
  }
  if (typeof duration !== 'number' || !(duration >= 1 && duration <= 30)) {
    throw new RangeError('duration must be a number of seconds in [1, 30]');
  }
  return { prompt, seed, duration, beatsPerSecond: tempoOfReference(raw.reference) };
}

/** Total progress steps of a job of `duration` seconds: denoiser runs + decoder chunks. */
export function totalSteps(duration: number): number {
  return DENOISE_STEPS + Math.ceil(Math.round(duration * SAMPLE_RATE) / CHUNK_SAMPLES);
}

const processor: ModelProcessor = {
  async run(input: unknown, ctx: ProcessorContext): Promise<ProcessorOutput> {
    const { prompt, seed, duration, beatsPerSecond } = parseInput(input);
    const sampleCount = Math.round(duration * SAMPLE_RATE);
    const total = totalSteps(duration);
    const denoiser = session(ctx, 'denoiser');
    const decoder = session(ctx, 'decoder');

    const cond = new ctx.Tensor('float32', promptToCond(prompt), [1, COND_SIZE]);
    let latent: OrtTensor = new ctx.Tensor('float32', seedToNoise(seed), [1, LATENT_SIZE]);
    for (let i = 0; i < DENOISE_STEPS; i++) {
      // Diffusion time runs from 1 (pure noise) down towards 0.
      const t = new ctx.Tensor('float32', Float32Array.of(1 - i / DENOISE_STEPS), [1]);
      latent = output(await denoiser.run({ latent, cond, t }), 'latent_out');
      ctx.step(i + 1, total);
    }

    const audio = new Float32Array(sampleCount);
    for (let start = 0, done = DENOISE_STEPS; start < sampleCount; start += CHUNK_SAMPLES) {
      const count = Math.min(CHUNK_SAMPLES, sampleCount - start);
      const timing = chunkTiming(start, count, beatsPerSecond);
      const feeds = {
        latent,
        t: new ctx.Tensor('float32', timing.t, [count]),
        beat_index: new ctx.Tensor('int64', timing.beatIndex, [count]),
        local_t: new ctx.Tensor('float32', timing.localT, [count]),
      };
      const chunk = output(await decoder.run(feeds), 'audio').data;
      if (!(chunk instanceof Float32Array) || chunk.length !== count) {
        throw new Error('decoder returned an unexpected audio tensor');
      }
      audio.set(chunk, start);
      ctx.step(++done, total);
    }
    return { bytes: encodeWav(audio, SAMPLE_RATE) };
  },
};

export default processor;

// onnxruntime types taken from the context, so this folder needs no onnxruntime import at all.
type Session = ProcessorContext['sessions'][string];
type Outputs = Awaited<ReturnType<Session['run']>>;
type OrtTensor = InstanceType<ProcessorContext['Tensor']>;

/**
 * Per-sample timing for samples [start, start + count): absolute time, which beat of the
 * looping phrase is playing, and the time since that beat began. Computed in float64 and only
 * then rounded to float32, so beat boundaries land on the same sample in every chunk.
 */
function chunkTiming(start: number, count: number, beatsPerSecond: number) {
  const t = new Float32Array(count);
  const beatIndex = new BigInt64Array(count);
  const localT = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const seconds = (start + i) / SAMPLE_RATE;
    const beat = Math.floor(seconds * beatsPerSecond);
    t[i] = seconds;
    beatIndex[i] = BigInt(beat % BEATS);
    localT[i] = seconds - beat / beatsPerSecond;
  }
  return { t, beatIndex, localT };
}

function session(ctx: ProcessorContext, name: string): Session {
  const s = ctx.sessions[name];
  if (!s) throw new Error(`tone-diffusion needs a "${name}" session`);
  return s;
}

function output(result: Outputs, name: string): OrtTensor {
  const value = result[name];
  if (!value) throw new Error(`model output "${name}" is missing`);
  return value as OrtTensor;
}
