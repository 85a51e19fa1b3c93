import { type ClusterHealth, type Health, healthSchema } from '../../shared/schemas/health.ts';
import type { EdgeApp } from '../context.ts';
import { sendToOrigin } from '../origins/send.ts';

/** One origin's health as it answered, and whether it serves (it answered 200). */
type Answer = { health: Health; serving: boolean } | undefined;

const distinct = (values: string[]) => [...new Set(values)].sort().join(',') || 'unknown';

/** The cluster's health from its origins' answers (in the configured order). */
function summarizeHealth(answers: readonly Answer[]): ClusterHealth {
  const reached = answers.filter((a) => a !== undefined);
  const serving = reached.filter((a) => a.serving);
  const allHealthy =
    serving.length === answers.length && serving.every((a) => a.health.status === 'healthy');
  const disks = reached.map((a) => a.health.disk);
  return {
    status: serving.length === 0 ? 'starting' : allHealthy ? 'healthy' : 'degraded',
    modelsLoaded: serving.some((a) => a.health.modelsLoaded),
    device: distinct(reached.map((a) => a.health.device)),
    // The queue is the database's: every origin reports it, read at slightly different times.
    queueLength: Math.max(0, ...reached.map((a) => a.health.queueLength)),
    activeJobs: reached.reduce((sum, a) => sum + a.health.activeJobs, 0),
    version: distinct(reached.map((a) => a.health.version)),
    disk:
      disks.length === 0
        ? null
        : {
            freeBytes: Math.min(...disks.map((d) => d.freeBytes)),
            freePercent: Math.min(...disks.map((d) => d.freePercent)),
            low: disks.some((d) => d.low),
          },
    stopping: reached.length > 0 && reached.every((a) => a.health.stopping),
    origins: answers.map((a, index) =>
      a ? { index, ...a.health } : { index, status: 'unreachable' as const },
    ),
  };
}

/**
 * `GET /v1/health` through the edge: every configured origin's `/v1/health`, asked at once
 * (signed, within `ORIGIN_HEALTH_TIMEOUT_MS`), summed up for the cluster
 * (`clusterHealthSchema`); 503 with `Retry-After` while no origin serves. An origin that does
 * not answer its health in time, or not as the schema says, is `unreachable`. Origins are
 * named by their ids: their addresses stay private.
 */
export function registerHealth(app: EdgeApp): void {
  app.get('/v1/health', async function clusterHealth(c) {
    const config = c.get('config');
    const request = {
      method: 'GET',
      pathWithQuery: '/v1/health',
      headers: new Headers(),
      body: undefined,
      timeoutMs: config.ORIGIN_HEALTH_TIMEOUT_MS,
    };
    const answers = await Promise.all(
      config.origins.map(async (origin): Promise<Answer> => {
        const sent = await sendToOrigin(c, origin, request);
        if (!sent.ok) return undefined;
        const parsed = healthSchema.safeParse(await sent.answer.json().catch(() => undefined));
        return parsed.success
          ? { health: parsed.data, serving: sent.answer.status === 200 }
          : undefined;
      }),
    );
    const health = summarizeHealth(answers);
    if (health.status === 'starting') c.header('retry-after', '2');
    return c.json(health, health.status === 'starting' ? 503 : 200);
  });
}
