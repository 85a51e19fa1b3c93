import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Debian's PostgreSQL server binaries (`apt-get install postgresql`), newest version first. */
export function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb'))) return bin;
  }
  throw new Error('PostgreSQL is not installed: apt-get install -y postgresql (see .ci/run)');
}

export interface PostgresServer {
  port: number;
  /** The URL of database `name` on this server. */
  url(name?: string): string;
  /** A new empty database, from the template that has every migration applied when given. */
  createDatabase(name: string, template?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL server in a temporary folder on a free loopback port (or
 * `port`) and answers once it accepts connections; `stop()` stops it and removes the folder.
 * Tests (`test/helpers/cluster.ts`, the store conformance suite), the bench and
 * `npm run start:cluster` use it. As root,
 * `initdb` and `pg_ctl` run as the `postgres` user (initdb refuses root); the only role is
 * `overture`, trusted on loopback. Nothing depends on a server left running.
 *
 * @example
 * const server = await startPostgres();
 * const url = await server.createDatabase('t1');
 */
export async function startPostgres(options: { port?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'overture-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const as = (command: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args])
      : run(join(bin, command), args);
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'overture', '--no-sync', '-E', 'UTF8']);
  const port = options.port ?? (await freePort());
  // fsync stays on: the tests kill origins, not the server, but durability is what we test.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  await as('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'log'), '-w', 'start']);
  // pg_ctl leaves the server running on its own: if this process ends without stop() (a
  // test's timeout, an uncaught error), stop it on the way out, so none is left behind.
  const stopNow = () => {
    const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    try {
      if (asRoot)
        execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], {
          stdio: 'ignore',
        });
      else execFileSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // Already stopped.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  const url = (name = 'postgres') => `postgres://overture@127.0.0.1:${port}/${name}`;
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url() });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    port,
    url,
    async createDatabase(name, template) {
      await admin((c) =>
        c.query(
          `CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}" STRATEGY FILE_COPY` : ''}`,
        ),
      );
      return url(name);
    },
    async stop() {
      process.off('exit', stopNow);
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
