import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signEdgeRequest } from '../../shared/edge-signature.ts';
import { fixtureModels, repoRoot } from './paths.ts';

/** The shipped models plus the test fixtures (`steps`). */
export const testModelDir = [join(repoRoot, 'models'), fixtureModels].join(delimiter);

export interface OriginProcess {
  url: string;
  port: number;
  /** The origin's Prometheus endpoint (its own listener, no edge signature). */
  metricsUrl: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process printed so far (JSON log lines and stderr). */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Reuse a data directory (restart); a fresh temporary one otherwise. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Wait for `/v1/health` to answer 200 (default), or only for the listening line. */
  waitReady?: boolean;
  /** Another tree's `origin/main.ts` (the bench's comparison of commits); this tree's by default. */
  main?: string;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'overture-test-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** `GET /v1/health`, signed as the edge signs it when the origin checks edge signatures. */
async function healthProbe(url: string, env: Record<string, string>): Promise<Response> {
  const secret = env.EDGE_SIGNING_SECRET;
  const signed =
    env.EDGE_SIGNATURE_CHECK === 'on' && secret
      ? await signEdgeRequest(secret, {
          method: 'GET',
          pathWithQuery: '/v1/health',
          body: undefined,
          clientIp: '127.0.0.1',
          requestId: randomUUID(),
          headers: {},
        })
      : {};
  return fetch(`${url}/v1/health`, { headers: signed });
}

/**
 * Starts `node origin/main.ts` as a real process on port 0 and resolves once it listens
 * (and, by default, once its models are loaded). Callers stop it with `kill()` or
 * `stopOriginProcess`; tests get theirs from the fixtures (`fixtures.ts`), which stop them.
 *
 * @example
 * const origin = await startOriginProcess();
 * onTestFinished(() => origin.kill());
 */
export async function startOriginProcess(options: StartOptions = {}): Promise<OriginProcess> {
  const dataDir = options.dataDir ?? makeDataDir();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    MODEL_DIR: testModelDir,
    POOL_THREADS: '2',
    // Origin-level suites talk to the origin directly; the edge suites turn the check on.
    EDGE_SIGNATURE_CHECK: 'off',
    // Many origins run side by side in tests: each takes a free metrics port.
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const child = spawn(process.execPath, [options.main ?? join(repoRoot, 'origin/main.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  // A test process that ends without stopping it (a timeout aborted its fixture) takes it
  // along: an origin left running would outlive the run.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  child.once('exit', () => process.off('exit', orphaned));
  // Once its output is read to the end too ('close', not 'exit'): a line written just before
  // a SIGKILL may still be in the pipe when the process is gone, and callers read `output()`.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  // One that never got going is stopped here: no caller holds it to stop.
  const failed = async (message: string): Promise<Error> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    return new Error(message);
  };

  // Generous: a loaded 2-core machine can take long to start a process with a thread pool.
  const deadline = Date.now() + 60_000;
  let port: number | undefined;
  let metricsPort = 0;
  while (port === undefined) {
    const match = /"port":(\d+).*"metricsPort":(\d+).*"msg":"listening"/.exec(text);
    if (match?.[1]) {
      port = Number(match[1]);
      metricsPort = Number(match[2]);
    } else if (child.exitCode !== null) throw await failed(`origin exited early:\n${text}`);
    else if (Date.now() > deadline) throw await failed(`origin did not listen in time:\n${text}`);
    else await sleep(20);
  }
  const url = `http://127.0.0.1:${port}`;
  if (options.waitReady !== false) {
    // Serving (200) and every model's pool loaded: a model may serve before another has.
    const loaded = async () => {
      const res = await healthProbe(url, env).catch(() => undefined);
      if (res?.status !== 200) return false;
      return ((await res.json()) as { modelsLoaded?: boolean }).modelsLoaded === true;
    };
    while (!(await loaded())) {
      if (child.exitCode !== null) throw await failed(`origin exited early:\n${text}`);
      if (Date.now() > deadline) throw await failed(`origin did not get ready in time:\n${text}`);
      await sleep(25);
    }
  }
  return {
    url,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dataDir,
    child,
    output: () => text,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** How long an origin may take to exit once told to stop; past it, it is SIGKILLed. */
const stopGraceMs = 60_000;

/**
 * Stops an origin with `signal` (one already stopped is left as it is). One still running
 * after a minute is SIGKILLed, and that is an error: nothing may outlive its test.
 */
export async function stopOriginProcess(
  origin: OriginProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  let ignored = false;
  const timer = setTimeout(() => {
    ignored = true;
    origin.child.kill('SIGKILL');
  }, stopGraceMs);
  await origin.kill(signal);
  clearTimeout(timer);
  if (ignored) {
    throw new Error(
      `origin ${origin.url} ignored ${signal} for ${stopGraceMs} ms:\n${origin.output().slice(-2000)}`,
    );
  }
}
