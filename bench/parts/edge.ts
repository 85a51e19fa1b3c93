import { randomBytes, randomUUID } from 'node:crypto';
import { signEdgeRequest } from '../../shared/edge-signature.ts';
import { startEdgeProcess } from '../../test/helpers/edge-process.ts';
import { removeDataDir, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { percentile, round } from '../lib/stats.ts';

/**
 * What the edge adds to a request: `GET /v1/jobs/:id` through the local edge (workerd,
 * with its CORS, rate limit Durable Object, signing) and straight to the origin (signed by
 * this process, so the origin does the same work), alternating one request of each.
 */
export async function edgeAddedLatency(options: { requests: number }) {
  const secret = randomBytes(32).toString('hex');
  const origin = await startOriginProcess({
    env: { EDGE_SIGNATURE_CHECK: 'on', EDGE_SIGNING_SECRET: secret, LOG_LEVEL: 'warn' },
  });
  const edge = await startEdgeProcess({
    ORIGIN_URL: origin.url,
    EDGE_SIGNING_SECRET: secret,
    RATE_LIMIT_DEFAULT: '100000000/60',
    RATE_LIMIT_AUTH: '100000000/60',
    RATE_LIMIT_JOBS: '100000000/60',
  }).catch(async (error: unknown) => {
    // wrangler did not start (no dist/ui, say): the origin must not outlive the bench.
    await origin.kill();
    removeDataDir(origin.dataDir);
    throw error;
  });
  try {
    const reg = await fetch(`${edge.url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `edge-bench-${Date.now()}@example.test`,
        password: 'benchmark-pass',
      }),
    });
    const { token } = (await reg.json()) as { token: string };
    const created = await fetch(`${edge.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'steps', input: { steps: 1, stepMs: 0 } }),
    });
    const { id } = (await created.json()) as { id: string };
    const path = `/v1/jobs/${id}`;
    const viaEdge: number[] = [];
    const direct: number[] = [];
    const timed = async (url: string, headers: Record<string, string>, into: number[]) => {
      const t0 = performance.now();
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      into.push(performance.now() - t0);
    };
    for (let i = 0; i < options.requests; i++) {
      await timed(`${edge.url}${path}`, { authorization: `Bearer ${token}` }, viaEdge);
      const signed = await signEdgeRequest(secret, {
        method: 'GET',
        pathWithQuery: path,
        body: undefined,
        clientIp: '127.0.0.1',
        requestId: randomUUID(),
      });
      await timed(`${origin.url}${path}`, { ...signed, authorization: `Bearer ${token}` }, direct);
    }
    // The first requests warm both paths up; they are not counted.
    const warm = Math.min(20, Math.floor(options.requests / 5));
    const e = viaEdge.slice(warm);
    const d = direct.slice(warm);
    return {
      edge_added_ms_p50: round(percentile(e, 50) - percentile(d, 50)),
      edge_ms_p50: round(percentile(e, 50)),
      direct_ms_p50: round(percentile(d, 50)),
      edge_ms_p99: round(percentile(e, 99)),
      direct_ms_p99: round(percentile(d, 99)),
    };
  } finally {
    await edge.kill();
    await origin.kill();
    removeDataDir(origin.dataDir);
  }
}
