import { removeDataDir, repoRoot, startOriginProcess } from '../test/helpers/origin-process.ts';
import { closedLoop, openClients } from './lib/job-clients.ts';

const o = await startOriginProcess({
  env: { MODEL_DIR: repoRoot + '/bench/models', LOG_LEVEL: 'info', QUEUE_LIMIT: '100000' },
});
const clients = await openClients(o.url, 16);
console.log('clients open');
const t = setTimeout(async () => {
  const lines = o.output().trim().split('\n');
  console.log('STUCK; last log lines:\n' + lines.slice(-8).join('\n'));
  const h = await (await fetch(o.url + '/v1/health')).json();
  console.log(h);
  process.exit(1);
}, 20000);
const run = await closedLoop(clients, 300, 'noop', {});
clearTimeout(t);
console.log('ok', run.timings.length, run.ms.toFixed(0));
for (const c of clients) c.close();
await o.kill();
removeDataDir(o.dataDir);
