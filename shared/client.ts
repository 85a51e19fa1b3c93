import type { z } from 'zod';
import { endpoints, type OperationId } from './api/endpoints.ts';
import type { Contracts } from './api/index.ts';
import type { ErrorBody, ErrorCode } from './errors.ts';

// Types only from the contracts (their zod schemas never reach a bundle); at run time the client
// needs nothing but `endpoints`, the method and path of each operation.
type RequestOf<Id extends OperationId> = Contracts[Id] extends { request: infer R } ? R : never;
/** The zod schema of a JSON body or answer. */
type JsonSchema<T> = T extends {
  content: { 'application/json': { schema: infer S extends z.ZodType } };
}
  ? S
  : never;
type Parts<Id extends OperationId> = {
  params: RequestOf<Id> extends { params: infer S extends z.ZodType } ? z.input<S> : never;
  query: RequestOf<Id> extends { query: infer S extends z.ZodType } ? z.input<S> : never;
  headers: RequestOf<Id> extends { headers: infer S extends z.ZodType } ? z.input<S> : never;
  body: RequestOf<Id> extends { body: infer B } ? z.input<JsonSchema<B>> : never;
};

/** An object with no properties: `Empty extends T` when everything in T is optional. */
type Empty = Record<never, never>;

/** A part the operation lacks is absent; one where everything is optional is optional. */
type Field<Name extends string, T> = [T] extends [never]
  ? { [K in Name]?: never }
  : Empty extends T
    ? { [K in Name]?: T }
    : { [K in Name]: T };

/** What an operation takes, typed by its contract: path parameters, query, headers, JSON body. */
export type OperationInput<Id extends OperationId> = Field<'params', Parts<Id>['params']> &
  Field<'query', Parts<Id>['query']> &
  Field<'headers', Parts<Id>['headers']> &
  Field<'body', Parts<Id>['body']>;

type Responses<Id extends OperationId> = Contracts[Id]['responses'];
type Success<Id extends OperationId> = keyof Responses<Id> & (200 | 201 | 202 | 204);

/** What an operation answers when it succeeds, typed by its contract (a 204: nothing). */
export type OperationAnswer<Id extends OperationId> = {
  [S in Success<Id>]:
    | z.output<JsonSchema<Responses<Id>[S]>>
    | EmptyIf<JsonSchema<Responses<Id>[S]>>;
}[Success<Id>];
type EmptyIf<S> = [S] extends [never] ? undefined : never;

/** Either the input of an operation, or nothing when no part of it is required. */
type InputArgs<Id extends OperationId> =
  Empty extends OperationInput<Id> ? [input?: OperationInput<Id>] : [input: OperationInput<Id>];

interface LooseInput {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

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
 * A typed client of the public API (API.md), for browsers, Workers and Node alike. Every
 * operation is `call(operationId, input)`, typed by its contract in `api/`; the methods below
 * are shorthands.
 *
 * @example
 * const api = new OvertureClient({ token: 'ovt_…' });
 * const job = await api.createJob({ model: 'tone-diffusion', input: { prompt: 'rain' } });
 * const same = await api.call('getJob', { params: { id: job.id } });
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

  /** Calls an operation; answers its parsed JSON (undefined for a 204) or throws an `ApiClientError`. */
  async call<Id extends OperationId>(
    id: Id,
    ...[input]: InputArgs<Id>
  ): Promise<OperationAnswer<Id>> {
    const res = await this.raw(id, ...([input] as InputArgs<Id>));
    if (res.status === 204) return undefined as OperationAnswer<Id>;
    return (await res.json()) as OperationAnswer<Id>;
  }

  /** Like `call`, but answers the `Response` (for files); errors still throw. */
  async raw<Id extends OperationId>(id: Id, ...[input]: InputArgs<Id>): Promise<Response> {
    const { method, path } = endpoints[id];
    const { params = {}, query = {}, headers = {}, body } = (input ?? {}) as LooseInput;
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(params[name] ?? ''),
    );
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
    const qs = search.toString();
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) all[k] = v;
    const token = this.#token();
    if (token) all.authorization = `Bearer ${token}`;
    // Bytes (an upload) go as they are, with the content type the caller gave; else JSON.
    const bytes = body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
    if (body !== undefined && !bytes) all['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${url}${qs ? `?${qs}` : ''}`, {
        method: method.toUpperCase(),
        headers: all,
        body: body === undefined ? undefined : bytes ? (body as BodyInit) : JSON.stringify(body),
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
    return this.call('register', { body: { email, password } });
  }
  login(email: string, password: string) {
    return this.call('login', { body: { email, password } });
  }
  /** Ends this session (its token is refused from now on). */
  logout() {
    return this.call('logout');
  }
  /** Ends every session of the user; sign in again with the new password. */
  changePassword(currentPassword: string, newPassword: string) {
    return this.call('changePassword', { body: { currentPassword, newPassword } });
  }
  me() {
    return this.call('getMe');
  }
  health() {
    return this.call('getHealth');
  }
  /** Uploads a file's bytes (`POST /v1/files`) as `contentType`, under `name`. */
  uploadFile(bytes: Blob | ArrayBuffer | Uint8Array, contentType: string, name?: string) {
    return this.call('uploadFile', {
      query: { name },
      headers: { 'content-type': contentType },
      body: bytes as never,
    } as unknown as InputArgs<'uploadFile'>[0]);
  }
  file(id: string) {
    return this.call('getFile', { params: { id } });
  }
  models() {
    return this.call('listModels');
  }
  createJob(body: Parts<'createJob'>['body'], idempotencyKey?: string) {
    return this.call('createJob', { body, headers: { 'Idempotency-Key': idempotencyKey } });
  }
  job(id: string) {
    return this.call('getJob', { params: { id } });
  }
  jobs(query: Parts<'listJobs'>['query'] = {}) {
    return this.call('listJobs', { query });
  }
  cancelJob(id: string) {
    return this.call('cancelJob', { params: { id } });
  }
  /** The output file of a succeeded job. */
  output(id: string, range?: string) {
    return this.raw('getJobOutput', { params: { id }, headers: { Range: range } });
  }
  webhookDeliveries(id: string) {
    return this.call('listWebhookDeliveries', { params: { id } });
  }
  webhookSecret() {
    return this.call('getWebhookSecret');
  }
  packs() {
    return this.call('listPacks');
  }
  checkout(pack: string) {
    return this.call('checkout', { body: { pack } });
  }
  ledger() {
    return this.call('getLedger');
  }
  /**
   * Per-model quality over a window (`24h`, `7d`, …); `scope: 'all'` for administrators;
   * `bucket` (`1h`, `auto`, …) adds a series per interval.
   */
  stats(query: Parts<'getStats'>['query'] = {}) {
    return this.call('getStats', { query });
  }
  /** The caller's jobs and credits per day (`days`, 30 by default), days from `utcOffset`. */
  usage(query: Parts<'getUsage'>['query'] = {}) {
    return this.call('getUsage', { query });
  }
  createApiKey(name: string) {
    return this.call('createApiKey', { body: { name } });
  }
  apiKeys() {
    return this.call('listApiKeys');
  }
  revokeApiKey(id: string) {
    return this.call('revokeApiKey', { params: { id } });
  }
}
