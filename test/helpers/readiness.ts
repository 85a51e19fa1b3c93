/**
 * Whether a `GET /v1/health` answer, an origin's or the edge's, says it serves with every
 * model loaded: an origin serves once one model's pool is (`modelsLoaded` says all are); the
 * edge's answer, once every origin it names has all of its models.
 *
 * @example
 * const res = await api.call('GET', '/v1/health');
 * if (everyModelLoaded(res)) …
 */
export function everyModelLoaded(answer: { status: number; body: unknown } | undefined): boolean {
  if (answer?.status !== 200) return false;
  const body = answer.body as {
    modelsLoaded?: unknown;
    origins?: { status?: unknown; modelsLoaded?: unknown }[];
  } | null;
  if (Array.isArray(body?.origins)) {
    return body.origins.every((o) => o.status !== 'unreachable' && o.modelsLoaded === true);
  }
  return body?.modelsLoaded === true;
}
