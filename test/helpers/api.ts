import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type ApiAnswer, readAnswer } from './http.ts';

// The answer type lives with the reader; callers of the client import it from here.
export type { ApiAnswer } from './http.ts';

export interface RequestOptions {
  token?: string;
  /** A value to send as JSON, or a string / bytes to send as they are. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A unique email per call, so tests never collide on accounts. */
export const uniqueEmail = (): string => `user-${randomUUID()}@example.test`;

/**
 * A small HTTP client for tests against a real origin (or the edge).
 *
 * @example
 * const api = apiClient(origin.url);
 * const { token } = await api.signUp();
 * const job = await api.call('POST', '/v1/jobs', { token, body: { model: 'steps', input: {} } });
 */
export function apiClient(base: string) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies loosely; each asserts the fields it needs.
  async function call<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined;
    if (typeof options.body === 'string' || options.body instanceof Uint8Array) {
      body = options.body as BodyInit;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    return readAnswer<T>(await fetch(`${base}${path}`, { method, headers, body }));
  }

  /** Registers a fresh user and answers its id, email and token. */
  async function signUp(email = uniqueEmail(), password = 'correct horse battery') {
    const res = await call('POST', '/v1/auth/register', { body: { email, password } });
    if (res.status !== 201)
      throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.user.id as string, email, password, token: res.body.token as string };
  }

  /** Polls a job until `until(job)` holds (default: a terminal status). */
  async function waitForJob(
    token: string,
    jobId: string,
    until: (job: Job) => boolean = (j) => ['succeeded', 'failed', 'canceled'].includes(j.status),
    timeoutMs = 20_000,
  ): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await call<Job>('GET', `/v1/jobs/${jobId}`, { token });
      if (res.status === 200 && until(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`job ${jobId} stuck: ${JSON.stringify(res.body)}`);
      await sleep(20);
    }
  }

  return { base, call, signUp, waitForJob };
}

/** A client made by `apiClient`. */
export type Api = ReturnType<typeof apiClient>;
