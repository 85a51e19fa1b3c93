import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModels, ModelFolderError } from '../../../origin/inference/models/registry.ts';
import { fixtureModels, shippedModels, tempDir } from '../support.ts';

const stepsManifest = JSON.parse(
  readFileSync(join(fixtureModels, 'steps', 'manifest.json'), 'utf8'),
) as Record<string, unknown>;

/** Writes a model folder `name` under `root`: the steps manifest with `changes`, and its files. */
function modelFolder(
  root: string,
  name: string,
  changes: Record<string, unknown> = {},
  files: string[] = ['processor.ts'],
): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const manifest: Record<string, unknown> = { ...stepsManifest, id: name, ...changes };
  for (const key of Object.keys(changes)) if (changes[key] === undefined) delete manifest[key];
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const file of files) writeFileSync(join(dir, file), 'export default { async run() {} };');
  return dir;
}

function folderError(modelDirs: string): ModelFolderError {
  try {
    loadModels(modelDirs);
  } catch (error) {
    if (error instanceof ModelFolderError) return error;
    throw error;
  }
  throw new Error('loadModels accepted the folders');
}

describe('loadModels', () => {
  it('loads the shipped models and the fixtures, from several folders', () => {
    const models = loadModels([shippedModels, fixtureModels].join(delimiter));
    expect(
      models
        .list()
        .map((m) => m.manifest.id)
        .sort(),
    ).toEqual(['steps', 'tone-diffusion']);
    const tone = models.get('tone-diffusion');
    expect(tone?.dir).toBe(join(shippedModels, 'tone-diffusion'));
    expect(tone?.manifest).toMatchObject({
      cost: 1,
      output: { contentType: 'audio/wav', extension: 'wav' },
      sessions: { denoiser: 'denoiser.onnx', decoder: 'decoder.onnx' },
    });
    expect(models.get('steps')?.manifest.sessions).toEqual({});
    expect(models.get('missing')).toBeUndefined();
  });

  it('describes its models for GET /v1/models, each with its pool', () => {
    const pool = (status: 'loading' | 'ready') => ({
      id: 'tone-diffusion',
      status,
      device: 'cpu',
      threads: 2,
      intraOpThreads: 1,
      loadMs: 40,
      memory: {
        estimatedBytes: 1,
        estimatedFrom: 'files' as const,
        measuredBytes: null,
        measuredAlone: true,
      },
      error: null,
    });
    const info = loadModels(shippedModels).info([pool('ready')]);
    expect(info).toEqual([
      expect.objectContaining({
        id: 'tone-diffusion',
        version: '1.0.0',
        cost: 1,
        output: { contentType: 'audio/wav', formats: ['wav', 'mp3'] },
        ready: true,
        pool: expect.objectContaining({ status: 'ready', threads: 2, device: 'cpu' }),
      }),
    ]);
    expect(info[0]?.input).toMatchObject({ type: 'object', required: ['prompt'] });
    expect(loadModels(shippedModels).info([pool('loading')])[0]?.ready).toBe(false);
    // A model without a pool on this origin is not listed.
    expect(loadModels(shippedModels).info([])).toEqual([]);
  });

  it('hands workers the warm-up input with the schema defaults applied', () => {
    const models = loadModels(fixtureModels);
    expect(models.get('steps')?.manifest.warmup).toEqual({
      steps: 1,
      stepMs: 0,
      ignoreAbort: false,
      fail: false,
      garbage: false,
    });
  });

  it('skips files and folders without a manifest', () => {
    const root = tempDir();
    modelFolder(root, 'good');
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'README.md'), '# models');
    expect(
      loadModels(root)
        .list()
        .map((m) => m.manifest.id),
    ).toEqual(['good']);
  });

  it('refuses a missing folder and a folder with no model', () => {
    const root = tempDir();
    expect(folderError(join(root, 'nope')).message).toContain(join(root, 'nope'));
    expect(folderError(root).message).toMatch(/no model folder found/);
  });

  it.each([
    ['missing fields', { cost: undefined, output: undefined }, /cost: .*; output: /],
    ['a bad id', { id: 'Bad_ID' }, /id: lower-case letters, digits and dashes/],
    ['a negative cost', { cost: -1 }, /cost: /],
    ['an unknown field', { extra: true }, /extra/],
    [
      'a processor outside the folder',
      { processor: '../processor.ts' },
      /processor: must be a file name/,
    ],
    [
      'a bad output extension',
      { output: { contentType: 'text/plain', extension: '.txt' } },
      /output\.extension/,
    ],
  ])('refuses a manifest with %s, naming the folder and the field', (_, changes, problem) => {
    const root = tempDir();
    const dir = modelFolder(root, 'broken', changes);
    const { message } = folderError(root);
    expect(message).toContain(`model folder ${dir}`);
    expect(message).toContain('bad manifest.json');
    expect(message).toMatch(problem);
  });

  it('refuses a manifest that is not JSON', () => {
    const root = tempDir();
    const dir = modelFolder(root, 'broken');
    writeFileSync(join(dir, 'manifest.json'), '{ "id": ');
    expect(folderError(root).message).toMatch(
      new RegExp(`model folder ${dir}: cannot read manifest.json`),
    );
  });

  it('refuses a missing processor file', () => {
    const root = tempDir();
    const dir = modelFolder(root, 'broken', {}, []);
    expect(folderError(root).message).toBe(
      `model folder ${dir}: processor.ts named in manifest.json is missing`,
    );
  });

  it('refuses output formats on a model that does not make WAV, and a format that is none', () => {
    const root = tempDir();
    const dir = modelFolder(root, 'texty', {
      output: { contentType: 'text/plain', extension: 'txt', formats: ['wav'] },
    });
    expect(folderError(root).message).toBe(
      `model folder ${dir}: output.formats are wav and what is encoded from it, and this model makes text/plain`,
    );
    const other = tempDir();
    modelFolder(other, 'oggy', {
      output: { contentType: 'audio/wav', extension: 'wav', formats: ['ogg'] },
    });
    expect(folderError(other).message).toMatch(/bad manifest\.json: output\.formats\.0: /);
  });

  it('refuses a missing ONNX file', () => {
    const root = tempDir();
    const dir = modelFolder(root, 'broken', { sessions: { main: 'model.onnx' } });
    expect(folderError(root).message).toBe(
      `model folder ${dir}: model.onnx named in manifest.json is missing`,
    );
  });

  it.each([
    ['an unknown type', { type: 'objekt' }],
    ['an unknown keyword', { type: 'object', propertiez: {} }],
    ['a bad minimum', { type: 'object', properties: { n: { type: 'integer', minimum: 'one' } } }],
  ])('refuses an input schema with %s', (_, input) => {
    const root = tempDir();
    const dir = modelFolder(root, 'broken', { input, warmup: {} });
    const { message } = folderError(root);
    expect(message).toContain(`model folder ${dir}: input schema:`);
  });

  it('refuses a warm-up input that does not match the input schema', () => {
    const root = tempDir();
    const dir = modelFolder(root, 'broken', { warmup: { steps: 'many' } });
    const { message } = folderError(root);
    expect(message).toContain(`model folder ${dir}: warmup input does not match the input schema`);
    expect(message).toContain('/steps must be integer');
  });

  it('refuses the same model id in two folders, naming the second', () => {
    const one = tempDir();
    const two = tempDir();
    modelFolder(one, 'twin');
    const second = modelFolder(two, 'twin');
    const { message } = folderError([one, two].join(delimiter));
    expect(message).toBe(`model folder ${second}: a model with id twin exists`);
  });

  it('refuses the same id under two folder names in one directory', () => {
    const root = tempDir();
    modelFolder(root, 'a', { id: 'same' });
    const second = modelFolder(root, 'b', { id: 'same' });
    expect(folderError(root).message).toContain(`model folder ${second}`);
  });
});

describe('ModelRegistry.check', () => {
  const models = loadModels([shippedModels, fixtureModels].join(delimiter));

  it('applies the schema defaults to a copy, leaving the caller input alone', () => {
    const input = { prompt: 'rain on a tin roof' };
    const checked = models.check('tone-diffusion', input);
    expect(checked).toEqual({
      ok: true,
      input: { prompt: 'rain on a tin roof', seed: 0, duration: 8 },
    });
    expect(input).toEqual({ prompt: 'rain on a tin roof' });
    expect(models.check('steps', { steps: 2 })).toEqual({
      ok: true,
      input: { steps: 2, stepMs: 50, ignoreAbort: false, fail: false, garbage: false },
    });
  });

  it('reports every issue with a path under input', () => {
    const checked = models.check('tone-diffusion', { prompt: '', seed: -1, duration: 'long' });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    const paths = checked.issues.map((i) => i.path).sort();
    expect(paths).toEqual(['input.duration', 'input.prompt', 'input.seed']);
    for (const issue of checked.issues) expect(issue.message).not.toBe('');
  });

  it('names a missing or an unexpected property in the issue path', () => {
    const checked = models.check('tone-diffusion', { tempo: 90 });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.issues.map((i) => i.path).sort()).toEqual(['input.prompt', 'input.tempo']);
  });

  it('answers an issue for an unknown model', () => {
    expect(models.check('missing', {})).toEqual({
      ok: false,
      issues: [{ path: 'model', message: 'unknown model' }],
    });
  });
});
