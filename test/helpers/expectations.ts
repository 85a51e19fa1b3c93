import { expect } from 'vitest';
import type { ErrorBody } from '../../shared/errors.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import type { Api, ApiAnswer } from './api.ts';

/**
 * Asserts the API's error shape: the status, a JSON `{error:{code,message}}` body whose
 * request id is the `x-request-id` header's.
 *
 * @example
 * expectApiError(await api.call('GET', '/v1/jobs'), 401, 'unauthorized');
 */
export function expectApiError(res: ApiAnswer, status: number, code: string): void {
  const body = res.body as ErrorBody | undefined;
  const shown = JSON.stringify(body ?? res.text);
  expect(res.status, shown).toBe(status);
  expect(res.headers.get('content-type'), shown).toMatch(/^application\/json/);
  expect(body?.error?.code, shown).toBe(code);
  expect(body?.error.message, shown).toEqual(expect.any(String));
  const requestId = res.headers.get('x-request-id');
  expect(requestId, shown).toBeTruthy();
  expect(body?.error.requestId, shown).toBe(requestId);
}

/** Submits a job and asserts it was accepted (202). */
export async function submitJob(
  api: Api,
  token: string,
  model: string,
  input: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Job> {
  const res = await api.call<Job>('POST', '/v1/jobs', { token, body: { model, input }, headers });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

/** The user's credit balance, from `GET /v1/me`. */
export async function creditsOf(api: Api, token: string): Promise<number> {
  const res = await api.call('GET', '/v1/me', { token });
  expect(res.status).toBe(200);
  return res.body.credits as number;
}
