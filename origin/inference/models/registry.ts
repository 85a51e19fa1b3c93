import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import { type OutputFormat, outputFormats } from '../../../shared/output-formats.ts';
import type { ModelInfo, ModelPool } from '../../../shared/schemas/models.ts';
import { type FileField, fileFields, fileFormat, fileIdPattern } from '../../files/file-inputs.ts';
import { type Manifest, manifestSchema } from './manifest.ts';

/** A model folder, checked at start. */
export interface LoadedModel {
  manifest: Manifest;
  dir: string;
  /** The input fields that take an uploaded file (`fileFields` of its schema), read at load. */
  fileFields: readonly FileField[];
}

export type InputCheck =
  | { ok: true; input: Record<string, unknown> }
  | { ok: false; issues: { path: string; message: string }[] };

export interface ModelRegistry {
  list(): LoadedModel[];
  get(id: string): LoadedModel | undefined;
  /** Checks a job input against the model's JSON Schema; the copy returned has defaults. */
  check(id: string, input: Record<string, unknown>): InputCheck;
  /** Each model as `GET /v1/models` lists it, with its pool's state on this origin. */
  info(pools: readonly (ModelPool & { id: string })[]): ModelInfo[];
}

const maxIssues = 20;

/** Raised when a model folder is broken; the message names the folder and the problem. */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelFolderError(`model folder ${dir}: cannot read manifest.json: ${String(error)}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ModelFolderError(`model folder ${dir}: bad manifest.json: ${issues.join('; ')}`);
  }
  const manifest = parsed.data;
  for (const file of [manifest.processor, ...Object.values(manifest.sessions)]) {
    if (!existsSync(join(dir, file))) {
      throw new ModelFolderError(`model folder ${dir}: ${file} named in manifest.json is missing`);
    }
  }
  const { formats, contentType } = manifest.output;
  if (formats && contentType !== outputFormats.wav.contentType) {
    throw new ModelFolderError(
      `model folder ${dir}: output.formats are wav and what is encoded from it, and this model makes ${contentType}`,
    );
  }
  return manifest;
}

/**
 * The formats a job of this model may ask for: the manifest's `output.formats`, or none to
 * choose from (null: the model's own output, whatever it is).
 */
export const formatsOf = (manifest: Manifest): readonly OutputFormat[] =>
  manifest.output.formats ?? [];

/** `input.a.b` for an issue; a missing or unexpected property is named, not its parent. */
function issuePath(error: ErrorObject): string {
  const property: unknown = error.params.missingProperty ?? error.params.additionalProperty;
  const pointer =
    typeof property === 'string' ? `${error.instancePath}/${property}` : error.instancePath;
  return `input${pointer.replaceAll('/', '.')}`;
}

/**
 * Loads every model folder under the given directories (separated by `:`), validating
 * each manifest, the files it names, its input schema and its warm-up input.
 *
 * @example
 * const models = loadModels('./models');
 * models.check('tone-diffusion', { prompt: 'rain' });
 */
export function loadModels(modelDirs: string): ModelRegistry {
  const ajv = new Ajv2020.default({ allErrors: true, useDefaults: true, strict: true });
  // A field that takes an uploaded file's id (`POST /v1/files`); the file is checked at create.
  ajv.addFormat(fileFormat, fileIdPattern);
  const models = new Map<string, LoadedModel>();
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();

  for (const root of modelDirs.split(delimiter).filter(Boolean)) {
    const base = resolve(root);
    if (!existsSync(base)) throw new ModelFolderError(`MODEL_DIR ${base} does not exist`);
    for (const name of readdirSync(base).sort()) {
      const dir = join(base, name);
      if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'manifest.json'))) continue;
      const manifest = readManifest(dir);
      if (models.has(manifest.id)) {
        throw new ModelFolderError(`model folder ${dir}: a model with id ${manifest.id} exists`);
      }
      let validate: ReturnType<typeof ajv.compile>;
      try {
        validate = ajv.compile(manifest.input);
      } catch (error) {
        throw new ModelFolderError(`model folder ${dir}: input schema: ${String(error)}`);
      }
      // Workers warm up on what a job would get: the input with its defaults applied.
      const warmup = structuredClone(manifest.warmup);
      if (!validate(warmup)) {
        throw new ModelFolderError(
          `model folder ${dir}: warmup input does not match the input schema: ${ajv.errorsText(validate.errors)}`,
        );
      }
      models.set(manifest.id, {
        manifest: { ...manifest, warmup },
        dir,
        fileFields: fileFields(manifest.input),
      });
      validators.set(manifest.id, validate);
    }
  }
  if (models.size === 0) throw new ModelFolderError(`no model folder found in ${modelDirs}`);

  return {
    list: () => [...models.values()],
    get: (id) => models.get(id),
    check(id, input) {
      const validate = validators.get(id);
      if (!validate) return { ok: false, issues: [{ path: 'model', message: 'unknown model' }] };
      const copy = structuredClone(input);
      if (validate(copy)) return { ok: true, input: copy };
      return {
        ok: false,
        // A bounded answer, however many ways an input is wrong.
        issues: (validate.errors ?? []).slice(0, maxIssues).map((e) => ({
          path: issuePath(e),
          message: e.message ?? 'invalid',
        })),
      };
    },
    info: (pools) =>
      [...models.values()].flatMap(({ manifest }) => {
        const found = pools.find((p) => p.id === manifest.id);
        if (!found) return [];
        const { id: _, ...pool } = found;
        return [
          {
            id: manifest.id,
            version: manifest.version,
            description: manifest.description,
            cost: manifest.cost,
            input: manifest.input,
            output: { contentType: manifest.output.contentType, formats: [...formatsOf(manifest)] },
            ready: pool.status === 'ready',
            pool,
          },
        ];
      }),
  };
}
