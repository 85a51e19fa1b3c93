import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ApiError,
  codeForStatus,
  codeToStatus,
  errorCodes,
  fromHttpException,
  jobErrorCodes,
} from '../../../shared/errors.ts';
import { jobErrorSchema } from '../../../shared/schemas/jobs.ts';
import { httpExceptionCases } from '../../fixtures/http-exceptions.ts';

const classOf = (status: number) => Math.floor(status / 100);

describe('codeForStatus', () => {
  it('gives every status that has codes one of its own', () => {
    for (const status of new Set(errorCodes.map(codeToStatus))) {
      expect(codeToStatus(codeForStatus(status)), String(status)).toBe(status);
    }
  });

  it("keeps every status's class: a client error never becomes a 500, nor the reverse", () => {
    for (let status = 400; status < 600; status++) {
      expect(classOf(codeToStatus(codeForStatus(status))), String(status)).toBe(classOf(status));
    }
  });

  it.each(httpExceptionCases)('maps %i to %s (answered %i)', (status, code, answered) => {
    expect(codeForStatus(status)).toBe(code);
    expect(codeToStatus(code)).toBe(answered);
  });
});

describe('fromHttpException', () => {
  it("keeps the exception's message, else names the code", () => {
    const error = fromHttpException({ status: 413, message: 'too big' });
    expect(error).toBeInstanceOf(ApiError);
    expect([error.code, error.message, error.status]).toEqual([
      'payload_too_large',
      'too big',
      413,
    ]);
    expect(fromHttpException({ status: 401, message: '' }).message).toBe('unauthorized');
  });
});

describe('job error codes', () => {
  it('are listed in the JSON Schema of a job error', () => {
    const document = z.toJSONSchema(jobErrorSchema);
    // Named for the OpenAPI document (`.meta({ id })`): the schema is a definition.
    const schema = document.$defs?.JobError as { properties?: Record<string, unknown> };
    expect(schema.properties?.code).toMatchObject({ type: 'string', enum: [...jobErrorCodes] });
  });
});
