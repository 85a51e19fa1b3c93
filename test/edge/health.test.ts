import { describe, expect, inject, it } from 'vitest';
import { clusterHealthSchema } from '../../shared/schemas/health.ts';
import { clusterEdge, edgeFetch, edgeWith, misbehave } from './support.ts';

// Three echo origins reporting 1, 2 and 3 active jobs and the cluster's queue of 4, switched
// by this file alone.
const [a = '', b = '', c = ''] = inject('echoClusters').health;
const idOf = (origin: string) => `echo-${new URL(origin).port}`;

/** `GET /v1/health` through the edge, its answer checked against the schema. */
async function health(send: (path: string) => Promise<Response>) {
  const res = await send('/v1/health');
  const text = await res.text();
  // The origins' addresses stay private; their ids name them.
  for (const origin of [a, b, c]) expect(text).not.toContain(new URL(origin).host);
  return { res, body: clusterHealthSchema.parse(JSON.parse(text)) };
}

describe('GET /v1/health through the edge', () => {
  it('describes the cluster: every origin, and the sums', async () => {
    const { res, body } = await health(clusterEdge([a, b, c]));
    expect(res.status).toBe(200);
    expect(body).toMatchObject({
      status: 'healthy',
      modelsLoaded: true,
      device: 'cpu',
      queueLength: 4,
      activeJobs: 6,
      version: '0.0.0-echo',
      stopping: false,
      disk: { low: false },
    });
    expect(body.origins).toEqual([
      expect.objectContaining({ index: 0, originId: idOf(a), status: 'healthy', activeJobs: 1 }),
      expect.objectContaining({ index: 1, originId: idOf(b), status: 'healthy', activeJobs: 2 }),
      expect.objectContaining({ index: 2, originId: idOf(c), status: 'healthy', activeJobs: 3 }),
    ]);
  });

  it('is degraded while some origins are down, starting or degraded', async () => {
    await misbehave(a, 'down');
    await misbehave(b, 'degraded');
    const { res, body } = await health(clusterEdge([a, b, c]));
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'degraded', activeJobs: 5, disk: { low: true } });
    expect(body.origins).toEqual([
      { index: 0, status: 'unreachable' },
      expect.objectContaining({ index: 1, originId: idOf(b), status: 'degraded' }),
      expect.objectContaining({ index: 2, originId: idOf(c), status: 'healthy' }),
    ]);

    await misbehave(c, 'not_ready');
    const starting = await health(clusterEdge([b, c]));
    expect(starting.body.status).toBe('degraded');
    expect(starting.body.origins[1]).toMatchObject({ originId: idOf(c), status: 'starting' });
  });

  it('does not wait past ORIGIN_HEALTH_TIMEOUT_MS for an origin that hangs', async () => {
    await misbehave(b, 'hang');
    const started = Date.now();
    const { res, body } = await health(
      clusterEdge([a, b], { ORIGIN_HEALTH_TIMEOUT_MS: '300', ORIGIN_TIMEOUT_MS: '5000' }),
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.origins[1]).toEqual({ index: 1, status: 'unreachable' });
  });

  it('is 503 starting, with Retry-After, while no origin serves', async () => {
    await misbehave(a, 'not_ready');
    await misbehave(b, 'down');
    const { res, body } = await health(clusterEdge([a, b, inject('deadOrigin')]));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(body).toMatchObject({ status: 'starting', modelsLoaded: false });
    expect(body.origins.map((o) => o.status)).toEqual(['starting', 'unreachable', 'unreachable']);

    const none = await health(edgeWith({ ORIGIN_URL: inject('deadOrigin') }));
    expect(none.res.status).toBe(503);
    expect(none.body).toMatchObject({ status: 'starting', disk: null, activeJobs: 0 });
  });

  it('of one origin (ORIGIN_URL) keeps its fields, under the same shape', async () => {
    const { res, body } = await health(edgeFetch);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'healthy', queueLength: 4, activeJobs: 0 });
    expect(body.origins).toEqual([
      expect.objectContaining({ index: 0, originId: idOf(inject('echoOrigin')) }),
    ]);
  });
});
