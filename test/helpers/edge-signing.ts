/**
 * Requests signed as the edge signs them, for tests that talk to an origin directly and play
 * the attacker who captured one on its way. No `node:` imports: the edge's tests (workerd)
 * use it too.
 */
import { edgeHeaders, signEdgeRequest } from '../../shared/edge-signature.ts';
import { type ApiAnswer, readAnswer } from './http.ts';

/** A request as it left the edge: what it travels with, its signature headers included. */
export interface CapturedRequest {
  method: string;
  path: string;
  body: string | undefined;
  headers: Record<string, string>;
}

/**
 * A request signed with `secret`, as the edge would forward it (the headers given are the
 * ones it travels with, and are signed where the scheme says so).
 *
 * @example
 * const captured = await signedLikeTheEdge(secret, { method: 'GET', path: '/v1/me',
 *   headers: { authorization: `Bearer ${token}` } });
 */
export async function signedLikeTheEdge(
  secret: string,
  request: { method: string; path: string; body?: string; headers?: Record<string, string> },
  options: { timestamp?: number; clientIp?: string } = {},
): Promise<CapturedRequest> {
  const headers = { ...request.headers };
  if (request.body !== undefined) headers['content-type'] ??= 'application/json';
  const signed = await signEdgeRequest(
    secret,
    {
      method: request.method,
      pathWithQuery: request.path,
      body: request.body === undefined ? undefined : new TextEncoder().encode(request.body),
      clientIp: options.clientIp ?? '203.0.113.7',
      requestId: crypto.randomUUID(),
      headers,
    },
    options.timestamp,
  );
  return {
    method: request.method,
    path: request.path,
    body: request.body,
    headers: { ...headers, ...signed },
  };
}

/**
 * `signedLikeTheEdge` for an API call: `body` goes as JSON, `token` as the Bearer
 * Authorization (signed, as the edge signs it).
 *
 * @example
 * const job = await captureCall(secret, 'POST', '/v1/jobs', { token, body: { model: 'steps', input: {} } });
 */
export const captureCall = (
  secret: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<CapturedRequest> =>
  signedLikeTheEdge(secret, {
    method,
    path,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    headers: {
      ...options.headers,
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
  });

/**
 * Sends a captured request to `base` (an origin), with some of its headers changed: a value
 * replaces one, `undefined` drops it.
 */
// biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies loosely; each asserts the fields it needs.
export async function sendCaptured<T = any>(
  base: string,
  captured: CapturedRequest,
  changes: Record<string, string | undefined> = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...captured.headers };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const { method, body } = captured;
  return readAnswer<T>(await fetch(`${base}${captured.path}`, { method, headers, body }));
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The other three spellings of a 43-character base64url MAC of 32 bytes: its last character
 * carries two padding bits, which a lenient decoder ignores.
 *
 * @example
 * respell('v2=…Q') // → ['v2=…R', 'v2=…S', 'v2=…T']
 */
export function respell(signature: string): string[] {
  const last = alphabet.indexOf(signature.at(-1) ?? '');
  if (last < 0) throw new Error(`not base64url: ${signature}`);
  const base = last & ~3;
  return [0, 1, 2, 3]
    .filter((bits) => base + bits !== last)
    .map((bits) => signature.slice(0, -1) + alphabet[base + bits]);
}

/** The captured request with its signature re-spelled, each of the three other ways. */
export const respelled = (captured: CapturedRequest): Record<string, string>[] =>
  respell(captured.headers[edgeHeaders.signature] ?? '').map((signature) => ({
    [edgeHeaders.signature]: signature,
  }));
