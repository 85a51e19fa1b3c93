/** An HTTP answer read whole: what tests assert on. */
export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  /** The parsed body of a JSON answer (by its content-type); `undefined` otherwise. */
  body: T;
  /** The raw body, for answers that are not JSON. */
  bytes: Uint8Array;
  /** The body decoded as UTF-8. */
  text: string;
}

/**
 * Reads a `Response` whole, the one way every test helper does: the bytes, their text, and
 * the JSON they hold when the content-type says JSON. A JSON content-type on a body that is
 * not JSON throws, naming the status and the start of the body.
 *
 * @example
 * const res = await readAnswer(await fetch(`${origin.url}/v1/health`));
 * expect(res.body.status).toBe('healthy');
 */
// biome-ignore lint/suspicious/noExplicitAny: tests read answer bodies loosely; each asserts the fields it needs.
export async function readAnswer<T = any>(res: Response): Promise<ApiAnswer<T>> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  if ((res.headers.get('content-type') ?? '').includes('json') && bytes.length > 0) {
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new Error(`a ${res.status} answer says JSON but is not: ${text.slice(0, 200)}`, {
        cause: error,
      });
    }
  }
  return { status: res.status, headers: res.headers, body: body as T, bytes, text };
}
