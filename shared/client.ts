import type { ErrorBody, ErrorCode } from './errors.ts';
import type { ApiKeyInfo, CreatedApiKey, MeAnswer, SessionAnswer } from './schemas/auth.ts';
import type { LedgerAnswer, PacksAnswer } from './schemas/billing.ts';
import type { Health } from './schemas/health.ts';
import type {
  CreateJobBody,
  Job,
  JobPage,
  JobStatus,
  WebhookDeliveryInfo,
} from './schemas/jobs.ts';
import type { ModelInfo } from './schemas/models.ts';
import type { StatsAnswer } from './schemas/stats.ts';

/** An error answer of the API, with its machine-readable code. */
export class ApiClientError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network';
  readonly details: unknown;
  readonly requestId: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    code: ErrorCode | 'network',
    message: string,
    extra: { details?: unknown; requestId?: string; retryAfter?: number } = {},
  ) {
    super(message);
    this.name = 'ApiClientError';
    this.status = status;
    this.code = code;
    this.details = extra.details;
    this.requestId = extra.requestId;
    this.retryAfter = extra.retryAfter;
  }
}

export interface ClientOptions {
  /** Where the API is: '' for the page's own host, or `https://api.example.com`. */
  baseUrl?: string;
  /** A session token or API key, sent as `Authorization: Bearer`. */
  token?: string | (() => string | undefined);
  fetch?: typeof fetch;
}

/**
 * A typed client of the public API (API.md), for browsers, Workers and Node alike.
 *
 * @example
 * const api = new OvertureClient({ token: 'ovt_…' });
 * const job = await api.createJob({ model: 'tone-diffusion', input: { prompt: 'rain' } });
 */
export class OvertureClient {
  readonly #base: string;
  readonly #token: () => string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions = {}) {
    this.#base = (options.baseUrl ?? '').replace(/\/$/, '');
    const token = options.token;
    this.#token = typeof token === 'function' ? token : () => token;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends a request; answers the parsed JSON or throws an `ApiClientError`. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const res = await this.raw(method, path, body, headers);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** Like `request`, but answers the `Response` (for files); errors still throw. */
  async raw(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const all: Record<string, string> = { ...headers };
    const token = this.#token();
    if (token) all.authorization = `Bearer ${token}`;
    if (body !== undefined) all['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiClientError(0, 'network', `The server could not be reached (${String(error)}).`);
    }
    if (res.ok || res.status === 304) return res;
    let error: Partial<ErrorBody['error']> = {};
    try {
      error = ((await res.json()) as ErrorBody).error ?? {};
    } catch {
      // Not the API's JSON: keep the status.
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new ApiClientError(
      res.status,
      error.code ?? 'internal',
      error.message ?? `HTTP ${res.status}`,
      {
        details: error.details,
        requestId: error.requestId ?? res.headers.get('x-request-id') ?? undefined,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}),
      },
    );
  }

  register(email: string, password: string) {
    return this.request<SessionAnswer>('POST', '/v1/auth/register', { email, password });
  }
  login(email: string, password: string) {
    return this.request<SessionAnswer>('POST', '/v1/auth/login', { email, password });
  }
  me() {
    return this.request<MeAnswer>('GET', '/v1/me');
  }
  health() {
    return this.request<Health>('GET', '/v1/health');
  }
  models() {
    return this.request<{ data: ModelInfo[] }>('GET', '/v1/models');
  }
  createJob(body: CreateJobBody, idempotencyKey?: string) {
    const headers: Record<string, string> = idempotencyKey
      ? { 'idempotency-key': idempotencyKey }
      : {};
    return this.request<Job>('POST', '/v1/jobs', body, headers);
  }
  job(id: string) {
    return this.request<Job>('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }
  jobs(query: { status?: JobStatus; limit?: number; cursor?: string } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.request<JobPage>('GET', `/v1/jobs${qs ? `?${qs}` : ''}`);
  }
  cancelJob(id: string) {
    return this.request<Job>('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
  }
  /** The output file of a succeeded job. */
  output(id: string, range?: string) {
    return this.raw(
      'GET',
      `/v1/jobs/${encodeURIComponent(id)}/output`,
      undefined,
      range ? { range } : {},
    );
  }
  webhookDeliveries(id: string) {
    return this.request<{ data: WebhookDeliveryInfo[] }>(
      'GET',
      `/v1/jobs/${encodeURIComponent(id)}/webhook-deliveries`,
    );
  }
  webhookSecret() {
    return this.request<{ secret: string }>('GET', '/v1/webhooks/secret');
  }
  packs() {
    return this.request<PacksAnswer>('GET', '/v1/billing/packs');
  }
  checkout(pack: string) {
    return this.request<{ url: string; sessionId: string }>('POST', '/v1/billing/checkout', {
      pack,
    });
  }
  ledger() {
    return this.request<LedgerAnswer>('GET', '/v1/billing/ledger');
  }
  /** Per-model quality over a window (`24h`, `7d`, …); `scope: 'all'` for administrators. */
  stats(query: { window?: string; scope?: 'own' | 'all' } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
    const qs = params.toString();
    return this.request<StatsAnswer>('GET', `/v1/stats${qs ? `?${qs}` : ''}`);
  }
  createApiKey(name: string) {
    return this.request<CreatedApiKey>('POST', '/v1/api-keys', { name });
  }
  apiKeys() {
    return this.request<{ data: ApiKeyInfo[] }>('GET', '/v1/api-keys');
  }
  revokeApiKey(id: string) {
    return this.request<void>('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`);
  }
}
