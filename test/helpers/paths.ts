import { join } from 'node:path';

/** The repository's root folder: where scripts, models and fixtures are found from. */
export const repoRoot = join(import.meta.dirname, '..', '..');

/** The test fixture models only (`steps`): an origin on them loads no ONNX model. */
export const fixtureModels = join(repoRoot, 'test/fixtures/models');
