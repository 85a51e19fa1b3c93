import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import type { ApiAnswer } from './api.ts';

// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document, walked loosely.
export type OpenApiDocument = Record<string, any>;

const documentId = 'https://overture.test/openapi.json';

/** A URI fragment holding a JSON pointer to `parts` (RFC 6901, then percent-encoded). */
export const pointer = (...parts: string[]): string =>
  `#/${parts.map((p) => encodeURIComponent(p.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

/**
 * An Ajv 2020 (strict) holding the document, so every schema in it compiles as JSON Schema
 * 2020-12 and `$ref`s resolve as in the document. Formats are left to the patterns zod writes.
 */
export function documentAjv(doc: OpenApiDocument): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: true,
    allowUnionTypes: true,
    validateFormats: false,
  });
  // OpenAPI's own fields around the schemas: known to Ajv, but not validation keywords.
  ajv.addVocabulary(Object.keys(doc).filter((k) => !k.startsWith('$')));
  ajv.addSchema({ ...doc, $id: documentId });
  return ajv;
}

/**
 * Asserts that a real answer is one the document describes: its status is listed for the
 * operation, and a JSON body validates against that status's schema.
 *
 * @example
 * expectDocumented(ajv, doc, 'get', '/v1/jobs/{id}', await api.call('GET', `/v1/jobs/${id}`));
 */
export function expectDocumented(
  ajv: Ajv2020,
  doc: OpenApiDocument,
  method: string,
  path: string,
  res: ApiAnswer,
): void {
  const shown = `${method.toUpperCase()} ${path} → ${res.status} ${JSON.stringify(res.body)}`;
  const answer = doc.paths?.[path]?.[method]?.responses?.[String(res.status)];
  expect(answer, `undocumented answer: ${shown}`).toBeDefined();
  const content = answer.content as Record<string, unknown> | undefined;
  if (!content) {
    expect(res.bytes.length, shown).toBe(0);
    return;
  }
  if (!content['application/json']) {
    expect(res.bytes.length, shown).toBeGreaterThan(0);
    return;
  }
  expect(res.headers.get('content-type'), shown).toMatch(/^application\/json/);
  const at = pointer('paths', path, method, 'responses', String(res.status), 'content');
  const validate = ajv.getSchema(`${documentId}${at}/application~1json/schema`);
  if (!validate) throw new Error(`no schema for ${shown}`);
  const valid = validate(res.body);
  expect(valid, `${shown}\n${ajv.errorsText(validate.errors)}`).toBe(true);
}
