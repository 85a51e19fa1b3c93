import { removeDataDir, startOriginProcess } from '../../test/helpers/origin-process.ts';
import { median, round } from '../lib/stats.ts';

/** Process spawn to `/v1/health` healthy (every worker warmed the default model), fresh data. */
export async function coldStart(options: { times: number }) {
  const samples: number[] = [];
  for (let i = 0; i < options.times; i++) {
    const t0 = performance.now();
    const origin = await startOriginProcess({ env: { LOG_LEVEL: 'warn' } });
    samples.push(performance.now() - t0);
    await origin.kill();
    removeDataDir(origin.dataDir);
  }
  return { cold_start_ms: round(median(samples), 0) };
}
