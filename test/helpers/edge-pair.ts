import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiClient } from './api.ts';
import { type EdgeProcess, freePort, startEdgeProcess, stopEdgeProcess } from './edge-process.ts';
import {
  type OriginProcess,
  removeDataDir,
  type StartOptions,
  startOriginProcess,
  stopOriginProcess,
} from './origin-process.ts';
import { everyModelLoaded } from './readiness.ts';

export interface EdgePair {
  origin: OriginProcess;
  edge: EdgeProcess;
  /** The signing secret the two share. */
  secret: string;
  /** The JWT secret the two share (the edge counts sessions and API keys by user with it). */
  jwtSecret: string;
  /** A client of the edge: the way in for clients. */
  api: ReturnType<typeof apiClient>;
  /** A client of the origin itself, skipping the edge. */
  direct: ReturnType<typeof apiClient>;
}

export interface EdgePairOptions {
  /** More of the origin's environment (it always checks edge signatures; its JWT_SECRET goes to the edge too). */
  originEnv?: StartOptions['env'];
  /** More of the edge's vars (ORIGIN_URL, EDGE_SIGNING_SECRET and JWT_SECRET are set). */
  edgeVars?: Record<string, string>;
  /** The origin keeps outputs in the edge's R2 bucket (`OUTPUT_STORE=edge`). */
  outputsAtEdge?: boolean;
}

/**
 * A real origin that checks edge signatures behind a real edge (`wrangler dev`, workerd),
 * sharing a fresh secret; resolves once the origin's `/v1/health` answers 200 through the
 * edge. Tests get one from the `pair` fixture (`fixtures.ts`), which stops it.
 *
 * @example
 * const pair = await startEdgePair({ edgeVars: { RATE_LIMIT_AUTH: '100/60' } });
 * await stopEdgePair(pair);
 */
export async function startEdgePair(options: EdgePairOptions = {}): Promise<EdgePair> {
  const secret = `e2e-${randomBytes(24).toString('hex')}`;
  const jwtSecret = options.originEnv?.JWT_SECRET ?? `e2e-jwt-${randomBytes(24).toString('hex')}`;
  // The edge's port is chosen first when the origin must know where to send its outputs.
  const edgePort = await freePort();
  const outputs: Record<string, string> = options.outputsAtEdge
    ? { OUTPUT_STORE: 'edge', EDGE_URL: `http://127.0.0.1:${edgePort}` }
    : {};
  // Only until it listens: the edge starts while the models load, and readiness is then
  // asked through the edge, which is the path under test anyway.
  const origin = await startOriginProcess({
    waitReady: false,
    env: {
      POOL_THREADS: '1',
      ...outputs,
      ...options.originEnv,
      JWT_SECRET: jwtSecret,
      EDGE_SIGNATURE_CHECK: 'on',
      EDGE_SIGNING_SECRET: secret,
    },
  });
  const pair = { origin, secret, jwtSecret, direct: apiClient(origin.url) } as EdgePair;
  try {
    pair.edge = await startEdgeProcess(
      {
        ...options.edgeVars,
        ORIGIN_URL: origin.url,
        EDGE_SIGNING_SECRET: secret,
        JWT_SECRET: jwtSecret,
      },
      { port: edgePort },
    );
    pair.api = apiClient(pair.edge.url);
    const deadline = Date.now() + 30_000;
    while (!everyModelLoaded(await pair.api.call('GET', '/v1/health').catch(() => undefined))) {
      if (Date.now() > deadline || origin.child.exitCode !== null) {
        throw new Error(`not ready through the edge:\n${origin.output()}\n${pair.edge.output()}`);
      }
      await sleep(50);
    }
  } catch (error) {
    await stopEdgePair(pair);
    throw error;
  }
  return pair;
}

/**
 * Stops both processes of a pair (its `origin` may have been replaced since: the one there
 * now is stopped) and removes the origin's data and the edge's local state.
 */
export async function stopEdgePair(pair: Partial<EdgePair>): Promise<void> {
  await Promise.all([
    pair.edge && stopEdgeProcess(pair.edge),
    pair.origin && stopOriginProcess(pair.origin),
  ]);
  if (pair.origin) removeDataDir(pair.origin.dataDir);
}
