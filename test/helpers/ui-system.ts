import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from './api.ts';
import { type EdgeProcess, freePort, startEdgeProcess, stopEdgeProcess } from './edge-process.ts';
import {
  type OriginProcess,
  removeDataDir,
  startOriginProcess,
  stopOriginProcess,
} from './origin-process.ts';
import { repoRoot } from './paths.ts';
import { everyModelLoaded } from './readiness.ts';

/** The whole system as `npm start` runs it: the edge in workerd before a signature-checking origin. */
export interface UiSystem {
  origin: OriginProcess;
  edge: EdgeProcess;
  /** Where the browser goes: the edge, serving the UI and the API on one host. */
  url: string;
  /** A client of the API through the edge. */
  api: ReturnType<typeof apiClient>;
  /** Starts the origin again on its port and data directory (after a kill), and waits until ready. */
  restartOrigin(): Promise<void>;
}

export interface UiSystemOptions {
  /** More of the origin's environment. */
  originEnv?: Record<string, string>;
  /** More of the edge's vars. */
  edgeVars?: Record<string, string>;
}

/** The UI the edge serves is dist/ui, built from edge/ui: a stale build tests old code. */
function assertUiBuilt(): void {
  const built = join(repoRoot, 'dist/ui/app.js');
  const builtAt = statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = readdirSync(join(repoRoot, 'edge/ui'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs);
  if (builtAt < Math.max(...sources)) {
    throw new Error('dist/ui is missing or older than edge/ui: run `node scripts/build.ts` first');
  }
}

/**
 * Starts the edge (`wrangler dev`) and the origin side by side, on ports chosen beforehand
 * so that the origin's PUBLIC_URL is the edge's address (Checkout returns there), as
 * `npm start` sets it; resolves once `/v1/health` answers 200 through the edge.
 */
export async function startUiSystem(options: UiSystemOptions): Promise<UiSystem> {
  assertUiBuilt();
  const secret = `ui-${randomBytes(24).toString('hex')}`;
  const jwtSecret = options.originEnv?.JWT_SECRET ?? `ui-jwt-${randomBytes(24).toString('hex')}`;
  const originPort = await freePort();
  let edgePort = await freePort();
  while (edgePort === originPort) edgePort = await freePort();
  const edgeUrl = `http://127.0.0.1:${edgePort}`;
  const env = {
    ...options.originEnv,
    PORT: String(originPort),
    PUBLIC_URL: edgeUrl,
    JWT_SECRET: jwtSecret,
    EDGE_SIGNATURE_CHECK: 'on',
    EDGE_SIGNING_SECRET: secret,
  };
  // Not `waitReady`: readiness is asked through the edge below, the path under test.
  const [edge, origin] = await Promise.allSettled([
    startEdgeProcess(
      {
        // Browser tests sign in and up more often than one person would in a minute.
        RATE_LIMIT_AUTH: '100/60',
        ...options.edgeVars,
        ORIGIN_URL: `http://127.0.0.1:${originPort}`,
        EDGE_SIGNING_SECRET: secret,
        JWT_SECRET: jwtSecret,
      },
      { port: edgePort },
    ),
    startOriginProcess({ waitReady: false, env }),
  ]);
  if (edge.status === 'rejected' || origin.status === 'rejected') {
    if (edge.status === 'fulfilled') await stopEdgeProcess(edge.value);
    if (origin.status === 'fulfilled') {
      await origin.value.kill();
      removeDataDir(origin.value.dataDir);
    }
    throw edge.status === 'rejected' ? edge.reason : (origin as PromiseRejectedResult).reason;
  }
  const api = apiClient(edgeUrl);
  const ready = async (started: OriginProcess) => {
    const deadline = Date.now() + 30_000;
    while (!everyModelLoaded(await api.call('GET', '/v1/health').catch(() => undefined))) {
      if (Date.now() > deadline || started.child.exitCode !== null) {
        throw new Error(
          `not ready through the edge:\n${started.output().slice(-4000)}\n${edge.value.output().slice(-2000)}`,
        );
      }
      await sleep(50);
    }
  };
  const system: UiSystem = {
    origin: origin.value,
    edge: edge.value,
    url: edgeUrl,
    api,
    async restartOrigin() {
      system.origin = await startOriginProcess({
        waitReady: false,
        dataDir: system.origin.dataDir,
        env,
      });
      await ready(system.origin);
    },
  };
  try {
    await ready(system.origin);
  } catch (error) {
    await stopUiSystem(system);
    throw error;
  }
  return system;
}

/** Stops both processes of a system and removes the origin's data and the edge's local state. */
export async function stopUiSystem(system: UiSystem): Promise<void> {
  await Promise.all([stopEdgeProcess(system.edge), stopOriginProcess(system.origin)]);
  removeDataDir(system.origin.dataDir);
}

/**
 * Keeps the only thread of tone-diffusion's pool busy with another user's long job (`holdMs`,
 * `holdableModelDir`), so that the page's jobs wait in the queue until `release()` cancels
 * it. Needs an origin with `POOL_THREADS=1` and `MODEL_DIR=holdableModelDir()`.
 */
export async function occupyThePool(system: UiSystem) {
  const { api } = system;
  const other = await api.signUp();
  const res = await api.call<Job>('POST', '/v1/jobs', {
    token: other.token,
    body: { model: 'tone-diffusion', input: { prompt: 'held', holdMs: 600_000 } },
  });
  if (res.status !== 202) throw new Error(`blocker refused: ${JSON.stringify(res.body)}`);
  const blocker = res.body;
  await api.waitForJob(other.token, blocker.id, (j) => j.status === 'running');
  return {
    job: blocker,
    /** Cancels the blocker, freeing the thread; answers its status. */
    async release() {
      const done = await api.call<Job>('POST', `/v1/jobs/${blocker.id}/cancel`, {
        token: other.token,
      });
      return done.body.status;
    },
  };
}
