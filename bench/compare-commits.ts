/**
 * `npm run bench:compare -- <commit> [<commit> …]`: the no-op job path of the origin at each
 * commit, side by side on this machine, in interleaved rounds (`--rounds 3 --jobs 2000`; with
 * `--postgres`, each origin on a fresh database of one throwaway PostgreSQL server):
 * jobs/s and the origin's main-thread CPU per job, each commit's origin started fresh each
 * round with the same environment (`benchOriginEnv`, `info` logs) and driven by the same 16
 * closed-loop clients of this tree. `WORKTREE` stands for the working tree as it is. Each
 * commit's `origin/`, `shared/` and `package.json` are written under `bench/trees/<commit>`
 * (inside the repository, so they find its `node_modules`); what a commit's origin needs
 * beyond those (a model, a migration) must be in them. The figures the README quotes as
 * "side by side with commit …" come from this.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from '../scripts/lib/postgres-server.ts';
import { removeDataDir, startOriginProcess } from '../test/helpers/origin-process.ts';
import { repoRoot } from '../test/helpers/paths.ts';
import { closedLoop, openClients } from './lib/job-clients.ts';
import { benchOriginEnv, postgresEnv } from './lib/origins.ts';
import { mainThreadCpuMs } from './lib/proc.ts';

const { values, positionals: commits } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '2000' },
    postgres: { type: 'boolean', default: false },
  },
});
if (commits.length === 0) throw new Error('name at least one commit (or WORKTREE)');
const rounds = Number(values.rounds);
const jobs = Number(values.jobs);
const parts = ['origin', 'shared', 'package.json'];

/** The commit's tree, written once; answers its `origin/main.ts`. */
function treeOf(commit: string): string {
  const dir = join(repoRoot, 'bench', 'trees', commit.replace(/[^\w.-]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (commit === 'WORKTREE') {
    for (const part of parts) cpSync(join(repoRoot, part), join(dir, part), { recursive: true });
  } else {
    const archive = execFileSync('git', ['archive', commit, ...parts], { cwd: repoRoot });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  return join(dir, 'origin', 'main.ts');
}

const mains = new Map(commits.map((commit) => [commit, treeOf(commit)]));
const postgres = values.postgres ? await startPostgres() : undefined;
let databases = 0;
/** The store of the next origin: its own database, or SQLite in its data directory. */
const storeEnv = async () =>
  postgres ? postgresEnv(await postgres.createDatabase(`compare${databases++}`)) : {};
const figures = new Map(commits.map((c) => [c, { perS: [] as number[], cpuMs: [] as number[] }]));
for (let round = 0; round < rounds; round++) {
  for (const [commit, main] of mains) {
    const origin = await startOriginProcess({
      main,
      env: { ...benchOriginEnv(2), ...(await storeEnv()), LOG_LEVEL: 'info' },
    });
    try {
      const clients = await openClients(origin.url, 16);
      await closedLoop(clients, 300, 'noop', {}); // warm-up, not counted
      const pid = origin.child.pid ?? 0;
      const cpu0 = mainThreadCpuMs(pid);
      const run = await closedLoop(clients, jobs, 'noop', {});
      const figure = figures.get(commit);
      figure?.perS.push(Math.round((jobs / run.ms) * 1000));
      figure?.cpuMs.push(Math.round(((mainThreadCpuMs(pid) - cpu0) / jobs) * 1000) / 1000);
      for (const client of clients) client.close();
    } finally {
      await origin.kill();
      removeDataDir(origin.dataDir);
    }
  }
}
for (const [commit, { perS, cpuMs }] of figures) {
  console.log(
    `${commit.padEnd(12)} jobs/s ${perS.join(' ')}   main-thread CPU ms/job ${cpuMs.join(' ')}`,
  );
}
await postgres?.stop();
rmSync(join(repoRoot, 'bench', 'trees'), { recursive: true, force: true });
