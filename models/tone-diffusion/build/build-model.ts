/**
 * Writes tone-diffusion's two ONNX graphs: `denoiser.onnx` and `decoder.onnx`.
 *
 *   node models/tone-diffusion/build/build-model.ts [output-dir]
 *
 * The output dir defaults to the model folder. Weights come from a fixed PRNG seed, so every
 * run writes byte-identical files (a test rebuilds them into a temp dir and compares).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BEATS,
  BEATS_PER_SECOND,
  COND_SIZE,
  gaussian,
  LATENT_SIZE,
  mulberry32,
  VOICES,
} from '../conditioning.ts';
import { encodeModel, FLOAT, floatTensor, INT64, int64Tensor, node, valueInfo } from './graph.ts';

/** Seed of the weight generator: changing it changes every sound the model makes. */
const WEIGHT_SEED = 0x70_4e_e5;

/** Fraction of the way from the current latent to the denoiser's target, per step. */
const DENOISE_RATE = 0.3;

/** Major pentatonic over two octaves, in semitones: every combination of notes is consonant. */
const SCALE = [0, 2, 4, 7, 9, 12, 14, 16, 19, 21];
/** Frequency of scale degree 0 of the middle voice: A3. */
const BASE_HZ = 220;
/** Octave shift per voice (bass, middle, high), in semitones. */
const VOICE_OFFSET = [-12, 0, 12];
/** Loudness per voice; they sum to 0.9 so the mix peaks below 0.9 of full scale. */
const VOICE_GAIN = [0.42, 0.28, 0.2];
/** Accent per beat of a 4/4 bar: strong downbeat, medium third beat. */
const ACCENT = [1, 0.7, 0.85, 0.7];

/**
 * One denoising step: latent_out = latent + rate * (tanh(cond·W + b + t·u + g⊙latent) - latent).
 * The g⊙latent term (gains around 1) makes the dynamics multistable, so the seed's noise picks
 * which of several tunes the prompt settles into, as in a real diffusion model.
 */
function denoiserGraph(): Uint8Array {
  const random = mulberry32(WEIGHT_SEED);
  // W scaled so cond·W (cond has unit RMS) has a standard deviation of about 1.2.
  const w = gaussian(random, COND_SIZE * LATENT_SIZE).map((v) => (v * 1.2) / Math.sqrt(COND_SIZE));
  const b = gaussian(random, LATENT_SIZE).map((v) => v * 0.3);
  const u = gaussian(random, LATENT_SIZE).map((v) => v * 0.5);
  const g = Float32Array.from({ length: LATENT_SIZE }, () => 0.6 + random());
  return encodeModel({
    name: 'tone_diffusion_denoiser',
    doc: 'One denoising step of tone-diffusion (procedural stand-in for a text-to-music model).',
    inputs: [
      valueInfo('latent', FLOAT, [1, LATENT_SIZE]),
      valueInfo('cond', FLOAT, [1, COND_SIZE]),
      valueInfo('t', FLOAT, [1]),
    ],
    outputs: [valueInfo('latent_out', FLOAT, [1, LATENT_SIZE])],
    initializers: [
      floatTensor('W', [COND_SIZE, LATENT_SIZE], w),
      floatTensor('b', [LATENT_SIZE], b),
      floatTensor('u', [LATENT_SIZE], u),
      floatTensor('g', [LATENT_SIZE], g),
      floatTensor('rate', [1], [DENOISE_RATE]),
    ],
    nodes: [
      node('MatMul', ['cond', 'W'], ['cond_w']),
      node('Add', ['cond_w', 'b'], ['cond_wb']),
      node('Mul', ['t', 'u'], ['time_shift']),
      node('Add', ['cond_wb', 'time_shift'], ['pre_cond']),
      node('Mul', ['latent', 'g'], ['self_drive']),
      node('Add', ['pre_cond', 'self_drive'], ['pre']),
      node('Tanh', ['pre'], ['target']),
      node('Sub', ['target', 'latent'], ['delta']),
      node('Mul', ['delta', 'rate'], ['update']),
      node('Add', ['latent', 'update'], ['latent_out']),
    ],
  });
}

/**
 * Latent → audio for a chunk of S samples. The latent holds, per beat and voice, a pitch and
 * an amplitude; pitches snap to SCALE, and each beat plucks every voice with an envelope.
 * The processor supplies per-sample timing, so chunks join seamlessly.
 */
function decoderGraph(): Uint8Array {
  const beatSeconds = 1 / BEATS_PER_SECOND;
  const phraseSeconds = BEATS * beatSeconds;
  const accent = Array.from({ length: BEATS }, (_, i) => ACCENT[i % ACCENT.length] ?? 1);
  const scalar = (name: string, value: number) => floatTensor(name, [], [value]);
  return encodeModel({
    name: 'tone_diffusion_decoder',
    doc: 'Renders a tone-diffusion latent as mono audio samples in [-1, 1].',
    inputs: [
      valueInfo('latent', FLOAT, [1, LATENT_SIZE]),
      valueInfo('t', FLOAT, ['samples']),
      valueInfo('beat_index', INT64, ['samples']),
      valueInfo('local_t', FLOAT, ['samples']),
    ],
    outputs: [valueInfo('audio', FLOAT, ['samples'])],
    initializers: [
      int64Tensor('notes_shape', [3], [BEATS, VOICES, 2]),
      int64Tensor('pitch_slot', [], [0]),
      int64Tensor('amp_slot', [], [1]),
      int64Tensor('voice_axis', [1], [1]),
      scalar('one', 1),
      scalar('half_span', (SCALE.length - 1) / 2),
      scalar('deg_min', 0),
      scalar('deg_max', SCALE.length - 1),
      floatTensor('scale', [SCALE.length], SCALE),
      floatTensor('voice_offset', [VOICES], VOICE_OFFSET),
      scalar('ln2_over_12', Math.LN2 / 12),
      scalar('base_omega', 2 * Math.PI * BASE_HZ),
      scalar('amp_slope', 2),
      scalar('amp_range', 0.65),
      scalar('amp_floor', 0.35),
      floatTensor('voice_gain', [VOICES], VOICE_GAIN),
      floatTensor('accent', [BEATS, 1], accent),
      scalar('attack_rate', -200),
      scalar('decay_rate', -3),
      scalar('beat_seconds', beatSeconds),
      scalar('release_rate', 200),
      scalar('swell_omega', (2 * Math.PI) / phraseSeconds),
      scalar('swell_depth', 0.1),
      scalar('swell_center', 0.9),
    ],
    nodes: [
      // Per beat: split the latent into pitch and amplitude, each [BEATS, VOICES].
      node('Reshape', ['latent', 'notes_shape'], ['notes']),
      node('Gather', ['notes', 'pitch_slot'], ['pitch_raw'], { axis: 2 }),
      node('Gather', ['notes', 'amp_slot'], ['amp_raw'], { axis: 2 }),
      // Pitch in (-1, 1) → nearest scale degree → semitones → angular frequency.
      node('Add', ['pitch_raw', 'one'], ['pitch_pos']),
      node('Mul', ['pitch_pos', 'half_span'], ['degree_f']),
      node('Round', ['degree_f'], ['degree_r']),
      node('Clip', ['degree_r', 'deg_min', 'deg_max'], ['degree_c']),
      node('Cast', ['degree_c'], ['degree'], { to: INT64 }),
      node('Gather', ['scale', 'degree'], ['semis'], { axis: 0 }),
      node('Add', ['semis', 'voice_offset'], ['semis_v']),
      node('Mul', ['semis_v', 'ln2_over_12'], ['log_ratio']),
      node('Exp', ['log_ratio'], ['ratio']),
      node('Mul', ['ratio', 'base_omega'], ['omega']),
      // Amplitude: never silent (floor), shaped per voice and accented per beat.
      node('Mul', ['amp_raw', 'amp_slope'], ['amp_x']),
      node('Sigmoid', ['amp_x'], ['amp_s']),
      node('Mul', ['amp_s', 'amp_range'], ['amp_r']),
      node('Add', ['amp_r', 'amp_floor'], ['amp_level']),
      node('Mul', ['amp_level', 'voice_gain'], ['amp_voiced']),
      node('Mul', ['amp_voiced', 'accent'], ['amp']),
      // Per sample: look up the current beat's notes, [S, VOICES].
      node('Gather', ['omega', 'beat_index'], ['omega_s'], { axis: 0 }),
      node('Gather', ['amp', 'beat_index'], ['amp_s_v'], { axis: 0 }),
      // Phase from the time since the beat started: each note is plucked afresh, and the
      // sine's argument stays small so float32 keeps it precise.
      node('Unsqueeze', ['local_t', 'voice_axis'], ['local_t_col']),
      node('Mul', ['omega_s', 'local_t_col'], ['phase']),
      node('Sin', ['phase'], ['wave']),
      node('Mul', ['wave', 'amp_s_v'], ['voices']),
      node('ReduceSum', ['voices', 'voice_axis'], ['mix'], { keepdims: 0 }),
      // Envelope: 5 ms attack, slow decay, 5 ms release before the next beat (no clicks).
      node('Mul', ['local_t', 'attack_rate'], ['attack_x']),
      node('Exp', ['attack_x'], ['attack_e']),
      node('Sub', ['one', 'attack_e'], ['attack']),
      node('Mul', ['local_t', 'decay_rate'], ['decay_x']),
      node('Exp', ['decay_x'], ['decay']),
      node('Sub', ['local_t', 'beat_seconds'], ['to_end']),
      node('Mul', ['to_end', 'release_rate'], ['release_x']),
      node('Exp', ['release_x'], ['release_e']),
      node('Sub', ['one', 'release_e'], ['release']),
      node('Mul', ['attack', 'decay'], ['env_ad']),
      node('Mul', ['env_ad', 'release'], ['env']),
      // A gentle swell over each phrase, driven by absolute time, in [0.8, 1].
      node('Mul', ['t', 'swell_omega'], ['swell_x']),
      node('Cos', ['swell_x'], ['swell_c']),
      node('Mul', ['swell_c', 'swell_depth'], ['swell_d']),
      node('Add', ['swell_d', 'swell_center'], ['swell']),
      node('Mul', ['mix', 'env'], ['shaped']),
      node('Mul', ['shaped', 'swell'], ['audio']),
    ],
  });
}

/** Both graphs, serialized. */
export function buildModels(): { denoiser: Uint8Array; decoder: Uint8Array } {
  return { denoiser: denoiserGraph(), decoder: decoderGraph() };
}

/** Writes `denoiser.onnx` and `decoder.onnx` into `outDir` and returns their paths. */
export function writeModels(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return Object.entries(buildModels()).map(([name, bytes]) => {
    const path = join(outDir, `${name}.onnx`);
    writeFileSync(path, bytes);
    return path;
  });
}

if (import.meta.main) {
  const modelDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = resolve(process.argv[2] ?? modelDir);
  for (const path of writeModels(outDir)) console.log(`wrote ${path}`);
}
