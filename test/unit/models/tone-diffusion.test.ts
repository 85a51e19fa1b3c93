import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RATE } from '../../../models/tone-diffusion/conditioning.ts';
import processor, { DENOISE_STEPS, totalSteps } from '../../../models/tone-diffusion/processor.ts';
import { decodeWav } from '../../../models/tone-diffusion/wav.ts';
import { fileFormat, fileIdPattern } from '../../../origin/files/file-inputs.ts';
import type { ProcessorContext } from '../../../origin/inference/processor.ts';

const modelDir = fileURLToPath(new URL('../../../models/tone-diffusion/', import.meta.url));
const manifest = JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8'));

let sessions: Record<string, InferenceSession>;

beforeAll(async () => {
  sessions = {};
  for (const [name, file] of Object.entries(manifest.sessions as Record<string, string>)) {
    // One intra-op thread: onnxruntime is then bit-for-bit deterministic.
    sessions[name] = await InferenceSession.create(join(modelDir, file), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  }
});

class AbortError extends Error {
  override name = 'AbortError';
}

/** A context that records progress and session runs, and aborts after `abortAfter` steps. */
function makeCtx(abortAfter = Number.POSITIVE_INFINITY) {
  const steps: [number, number][] = [];
  const runs: string[] = [];
  let aborted = false;
  const counted = Object.fromEntries(
    Object.entries(sessions).map(([name, session]) => [
      name,
      {
        run: (feeds: InferenceSession.FeedsType) => {
          runs.push(name);
          return session.run(feeds);
        },
      } as unknown as InferenceSession,
    ]),
  );
  const ctx: ProcessorContext = {
    sessions: counted,
    Tensor,
    step(done, total) {
      if (steps.length >= abortAfter) {
        aborted = true;
        throw new AbortError('job aborted');
      }
      steps.push([done, total]);
    },
    get aborted() {
      return aborted;
    },
  };
  return { ctx, steps, runs };
}

async function generate(input: unknown) {
  const { ctx } = makeCtx();
  return (await processor.run(input, ctx)).bytes;
}

function stats(samples: Float32Array) {
  let sumSq = 0;
  let peak = 0;
  let crossings = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] ?? 0;
    sumSq += v * v;
    peak = Math.max(peak, Math.abs(v));
    if (i > 0 && (samples[i - 1] ?? 0) < 0 !== v < 0) crossings++;
  }
  return {
    rms: Math.sqrt(sumSq / samples.length),
    peak,
    zeroCrossingRate: crossings / samples.length,
  };
}

describe('tone-diffusion', () => {
  let calm: Uint8Array;
  beforeAll(async () => {
    calm = await generate({ prompt: 'calm piano by the sea', seed: 42, duration: 8 });
  });

  it('returns a 16-bit mono WAV of exactly duration × sample rate samples', async () => {
    const wav = decodeWav(calm);
    expect(wav).toMatchObject({ sampleRate: SAMPLE_RATE, channels: 1, bitsPerSample: 16 });
    expect(wav.samples.length).toBe(8 * SAMPLE_RATE);
    expect(calm.length).toBe(44 + 8 * SAMPLE_RATE * 2);
    // A duration that is not a whole number of chunks (or of samples) rounds to the sample.
    const short = decodeWav(await generate({ prompt: 'calm', duration: 1.00002 }));
    expect(short.samples.length).toBe(Math.round(1.00002 * SAMPLE_RATE));
  });

  it('is audible, not clipped, and tonal rather than noise', () => {
    const { rms, peak, zeroCrossingRate } = stats(decodeWav(calm).samples);
    expect(rms).toBeGreaterThan(0.05);
    expect(peak).toBeLessThan(0.99);
    // The metric itself: uniform white noise crosses zero about every other sample.
    let seed = 1;
    const noise = Float32Array.from({ length: 20000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 30 - 1;
    });
    expect(stats(noise).zeroCrossingRate).toBeGreaterThan(0.4);
    expect(zeroCrossingRate).toBeLessThan(0.15);
  });

  it('sounds for the whole duration, with no silent second', () => {
    const samples = decodeWav(calm).samples;
    for (let s = 0; s < 8; s++) {
      const second = samples.subarray(s * SAMPLE_RATE, (s + 1) * SAMPLE_RATE);
      expect(stats(second).rms, `second ${s}`).toBeGreaterThan(0.03);
    }
  });

  it('is deterministic for the same prompt, seed and duration', async () => {
    const again = await generate({ prompt: 'calm piano by the sea', seed: 42, duration: 8 });
    expect(Buffer.from(again).equals(Buffer.from(calm))).toBe(true);
  });

  it('differs for another prompt and for another seed', async () => {
    const base = decodeWav(calm).samples;
    for (const input of [
      { prompt: 'angry synth at night', seed: 42, duration: 8 },
      { prompt: 'calm piano by the sea', seed: 43, duration: 8 },
    ]) {
      const other = decodeWav(await generate(input)).samples;
      expect(other.length).toBe(base.length);
      let differing = 0;
      for (let i = 0; i < base.length; i++) if (other[i] !== base[i]) differing++;
      // Most of the signal changes, not a few samples.
      expect(differing / base.length, JSON.stringify(input)).toBeGreaterThan(0.5);
    }
  });

  it('applies the schema defaults itself when they are missing', async () => {
    const explicit = await generate({ prompt: 'warm up', seed: 0, duration: 8 });
    expect(Buffer.from(await generate({ prompt: 'warm up' })).equals(Buffer.from(explicit))).toBe(
      true,
    );
  });

  it('rejects inputs the schema would reject', async () => {
    await expect(generate({})).rejects.toThrow(/prompt/);
    await expect(generate({ prompt: '' })).rejects.toThrow(/prompt/);
    await expect(generate({ prompt: 'x', seed: 1.5 })).rejects.toThrow(/seed/);
    await expect(generate({ prompt: 'x', seed: -1 })).rejects.toThrow(/seed/);
    await expect(generate({ prompt: 'x', duration: 31 })).rejects.toThrow(/duration/);
    await expect(generate({ prompt: 'x', duration: Number.NaN })).rejects.toThrow(/duration/);
  });

  it('reports every step in order, ending at the total', async () => {
    const { ctx, steps, runs } = makeCtx();
    await processor.run({ prompt: 'progress', duration: 8 }, ctx);
    const total = totalSteps(8);
    expect(total).toBe(DENOISE_STEPS + 8);
    expect(steps).toEqual(Array.from({ length: total }, (_, i) => [i + 1, total]));
    expect(runs.filter((r) => r === 'denoiser').length).toBe(DENOISE_STEPS);
    expect(runs.filter((r) => r === 'decoder').length).toBe(8);
  });

  it('counts a partial last second as a decoder step', () => {
    expect(totalSteps(1)).toBe(DENOISE_STEPS + 1);
    expect(totalSteps(2.5)).toBe(DENOISE_STEPS + 3);
    expect(totalSteps(30)).toBe(DENOISE_STEPS + 30);
  });

  it('stops at the step where the job is aborted', async () => {
    const { ctx, steps, runs } = makeCtx(3);
    await expect(processor.run({ prompt: 'stop me', duration: 8 }, ctx)).rejects.toThrow(
      AbortError,
    );
    expect(steps).toEqual([
      [1, 20],
      [2, 20],
      [3, 20],
    ]);
    // The run whose step threw was the last one: no further denoising, no decoding.
    expect(runs).toEqual(['denoiser', 'denoiser', 'denoiser', 'denoiser']);
  });

  it('also stops when aborted during decoding', async () => {
    const { ctx, runs } = makeCtx(DENOISE_STEPS + 2);
    await expect(processor.run({ prompt: 'stop me later', duration: 8 }, ctx)).rejects.toThrow(
      AbortError,
    );
    expect(runs.filter((r) => r === 'decoder').length).toBe(3);
  });
});

describe('tone-diffusion manifest', () => {
  it('has the shape the engine loads', () => {
    expect(Object.keys(manifest)).toEqual([
      'id',
      'version',
      'description',
      'cost',
      'input',
      'output',
      'processor',
      'sessions',
      'warmup',
    ]);
    expect(manifest).toMatchObject({
      id: 'tone-diffusion',
      version: '1.0.0',
      cost: 1,
      output: { contentType: 'audio/wav', extension: 'wav' },
      processor: 'processor.ts',
      sessions: { denoiser: 'denoiser.onnx', decoder: 'decoder.onnx' },
    });
    for (const file of Object.values(manifest.sessions as Record<string, string>)) {
      expect(statSync(join(modelDir, file)).size).toBeLessThan(100_000);
    }
  });

  // The schema uses only keywords that mean the same in draft-07 and 2020-12, so it works
  // whichever Ajv class the engine picks.
  for (const [draft, AjvClass] of [
    ['draft-07', Ajv],
    ['2020-12', Ajv2020],
  ] as const) {
    it(`validates inputs and applies defaults (${draft})`, () => {
      const ajv = new AjvClass({ useDefaults: true, strict: true });
      // The engine's format for a field that takes an uploaded file's id (`reference`).
      ajv.addFormat(fileFormat, fileIdPattern);
      const validate = ajv.compile(manifest.input);
      const input: Record<string, unknown> = { prompt: 'lofi beat' };
      expect(validate(input)).toBe(true);
      expect(input).toEqual({ prompt: 'lofi beat', seed: 0, duration: 8 });
      expect(validate({ ...manifest.warmup })).toBe(true);
      expect(validate({ prompt: 'x', seed: 2 ** 31 - 1, duration: 30 })).toBe(true);
      expect(validate({ prompt: 'x', reference: 'file_01M8000000000000000000000Z' })).toBe(true);
      for (const bad of [
        {},
        { prompt: '' },
        { prompt: 'x'.repeat(501) },
        { prompt: 'x', seed: 1.5 },
        { prompt: 'x', seed: 2 ** 31 },
        { prompt: 'x', duration: 0.5 },
        { prompt: 'x', duration: 31 },
        { prompt: 'x', style: 'jazz' },
        { prompt: 'x', reference: 'not-a-file-id' },
      ]) {
        expect(validate(bad), JSON.stringify(bad)).toBe(false);
      }
    });
  }
});

describe('tone-diffusion build script', () => {
  it('rebuilds byte-identical .onnx files', () => {
    const out = mkdtempSync(join(tmpdir(), 'tone-diffusion-build-'));
    try {
      execFileSync(process.execPath, [join(modelDir, 'build', 'build-model.ts'), out], {
        stdio: 'pipe',
      });
      for (const file of ['denoiser.onnx', 'decoder.onnx']) {
        const rebuilt = readFileSync(join(out, file));
        expect(rebuilt.equals(readFileSync(join(modelDir, file))), file).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
