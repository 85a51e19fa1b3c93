/**
 * What the Dockerfile does, without Docker (no engine on this machine): the repository's
 * files in a fresh folder, production dependencies only (`npm ci --omit=dev`), then
 * `node origin/main.ts` with NODE_ENV=production. Slow (a real install): one test.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it, onTestFinished } from 'vitest';
import { signEdgeRequest } from '../../shared/edge-signature.ts';
import { type ApiAnswer, readAnswer } from '../helpers/http.ts';
import { repoRoot } from '../helpers/paths.ts';

const edgeSecret = `edge-production-${randomUUID()}`;
const jwtSecret = `jwt-production-${randomUUID()}`;

interface Ran {
  code: number | null;
  output: string;
}

/** Runs a command to its end, capturing stdout and stderr together. */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  return finished(child);
}

function finished(child: ChildProcess): Promise<Ran> & { output(): string } {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  // `close`, not `exit`: every byte of the output has arrived by then.
  const done = new Promise<Ran>((resolve) =>
    child.once('close', (code) => resolve({ code, output })),
  );
  return Object.assign(done, { output: () => output });
}

/**
 * The build context of `docker build .`: the working tree's files that git tracks or would
 * track (untracked but not ignored), so node_modules, data and .tools stay out.
 */
function copyBuildContext(to: string): void {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  for (const file of listed.split('\0')) {
    // A tracked file deleted in the working tree is not in the build context either.
    if (file && existsSync(join(repoRoot, file))) cpSync(join(repoRoot, file), join(to, file));
  }
}

/**
 * npm/cli#9846: `npm ci` refuses a lockfile as "out of sync" when the registry does not serve
 * an optional platform package the lockfile leaves out (`Missing: <name>@ from lock file`,
 * no version). A real mismatch names a version, or says `Invalid:`, and fails the test.
 */
const onlyUnavailableOptionals = (output: string): boolean => {
  const missing = output.split('\n').filter((l) => l.includes('Missing: '));
  return (
    output.includes('EUSAGE') &&
    missing.length > 0 &&
    missing.every((l) => /Missing: \S+@ from lock file/.test(l)) &&
    !output.includes('Invalid: ')
  );
};

/** Installs production dependencies as the Dockerfile does. */
async function installProduction(dir: string): Promise<void> {
  const options = { cwd: dir, env: process.env };
  const ci = await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], options);
  if (ci.code === 0) return;
  expect(onlyUnavailableOptionals(ci.output), ci.output).toBe(true);
  // The same locked versions through `npm install`, which accepts that lockfile; checked below.
  const install = await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund'], options);
  expect(install.code, install.output).toBe(0);
}

type Lock = { packages: Record<string, { version?: string; dev?: boolean; optional?: boolean }> };

/** Every production package of the lockfile is installed at its locked version; no dev one is. */
function expectLockedProductionTree(dir: string, lock: Lock): void {
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/')) continue;
    const manifest = join(dir, path, 'package.json');
    const installed = existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
      : undefined;
    if (entry.dev && installed) problems.push(`${path}: a dev dependency is installed`);
    if (!entry.dev && !entry.optional && installed !== entry.version) {
      problems.push(`${path}: ${installed ?? 'missing'}, locked ${entry.version}`);
    }
  }
  expect(problems).toEqual([]);
}

/** A request as the edge forwards it: signed, with the user's token when given. */
async function viaEdge(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; requestId?: string } = {},
): Promise<ApiAnswer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const signed = await signEdgeRequest(edgeSecret, {
    method,
    pathWithQuery: path,
    body: body === undefined ? undefined : new TextEncoder().encode(body),
    clientIp: '203.0.113.7',
    requestId: options.requestId ?? randomUUID(),
    headers,
  });
  return readAnswer(
    await fetch(`${base}${path}`, { method, headers: { ...headers, ...signed }, body }),
  );
}

/** Polls until `check` answers a value, or fails after `ms`. */
async function until<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

it('installs production dependencies only, serves from that install with NODE_ENV=production, stops on SIGTERM with 0, runs the admin command, and refuses EDGE_SIGNATURE_CHECK=off', {
  timeout: 240_000,
  retry: 0,
}, async () => {
  const app = mkdtempSync(join(tmpdir(), 'overture-image-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'overture-image-data-'));
  onTestFinished(() => {
    rmSync(app, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  copyBuildContext(app);
  // Read before the install: a fallback `npm install` may rewrite it.
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as Lock;
  await installProduction(app);
  expectLockedProductionTree(app, lock);
  for (const dev of ['typescript', 'vitest', '@biomejs/biome', 'wrangler', 'esbuild']) {
    expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
  }

  const production = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
    MODEL_DIR: join(app, 'models'),
    JWT_SECRET: jwtSecret,
    EDGE_SIGNING_SECRET: edgeSecret,
    POOL_THREADS: '1',
  };
  const child = spawn(process.execPath, ['origin/main.ts'], {
    cwd: app,
    env: production,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const origin = finished(child);

  const port = await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`origin exited:\n${origin.output()}`);
      return /"port":(\d+).*"msg":"listening"/.exec(origin.output())?.[1];
    },
    60_000,
    'the listening line',
  );
  const base = `http://127.0.0.1:${port}`;

  // The image's HEALTHCHECK: unsigned, always answered.
  const healthz = await readAnswer(await fetch(`${base}/healthz`));
  expect(healthz.status).toBe(200);
  expect(healthz.body).toEqual({ status: 'ok' });
  // Everything else wants the edge's signature.
  expect((await fetch(`${base}/v1/health`)).status).toBe(401);
  const health = await until(
    async () => {
      const res = await viaEdge(base, 'GET', '/v1/health');
      return res.status === 200 ? (res.body as { status: string }) : undefined;
    },
    60_000,
    'a healthy origin',
  );
  expect(health).toMatchObject({ status: 'healthy', modelsLoaded: true, device: 'cpu' });

  // The native modules of the install at work: argon2, SQLite, onnxruntime.
  const email = `prod-${randomUUID()}@example.test`;
  const account = await viaEdge(base, 'POST', '/v1/auth/register', {
    body: { email, password: 'correct horse battery' },
  });
  expect(account.status).toBe(201);
  const { token } = account.body as { token: string };
  const created = await viaEdge(base, 'POST', '/v1/jobs', {
    token,
    body: { model: 'tone-diffusion', input: { prompt: 'a production check', duration: 1 } },
  });
  expect(created.status).toBe(202);
  const { id } = created.body as { id: string };
  const status = await until(
    async () => {
      const job = await viaEdge(base, 'GET', `/v1/jobs/${id}`, { token });
      const { status } = job.body as { status: string };
      return status === 'queued' || status === 'running' ? undefined : status;
    },
    60_000,
    'the job to end',
  );
  expect(status).toBe('succeeded');
  const wav = await viaEdge(base, 'GET', `/v1/jobs/${id}/output`, { token });
  expect(wav.status).toBe(200);
  expect(Buffer.from(wav.bytes.subarray(0, 4)).toString()).toBe('RIFF');

  child.kill('SIGTERM');
  const stopped = await origin;
  expect(stopped.code, stopped.output).toBe(0);
  expect(stopped.output).toContain('"msg":"stopped"');

  // The operator's admin command runs from the same install (the image copies it), with the
  // origin's environment, as `docker exec <container> node scripts/admin.ts …` runs it.
  const granted = await run(process.execPath, ['scripts/admin.ts', 'grant', email], {
    cwd: app,
    env: production,
  });
  expect(granted.code, granted.output).toBe(0);
  const admins = await run(process.execPath, ['scripts/admin.ts', 'list'], {
    cwd: app,
    env: production,
  });
  expect(admins.output).toContain(email);

  // Production refuses to run without the edge signature check, naming the variable.
  const unchecked = await run(process.execPath, ['origin/main.ts'], {
    cwd: app,
    env: { ...production, EDGE_SIGNATURE_CHECK: 'off' },
  });
  expect(unchecked.code).not.toBe(0);
  expect(unchecked.output).toContain('EDGE_SIGNATURE_CHECK');
  expect(unchecked.output).not.toContain('"msg":"listening"');
});
