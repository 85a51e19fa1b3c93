/**
 * The whole cluster as `npm run start:cluster` runs it: the edge (real `wrangler dev`) in
 * front of two origins on one PostgreSQL, outputs in the edge's R2 bucket. A job submitted,
 * watched over the WebSocket and downloaded through the edge gives the same bytes as one
 * origin on SQLite makes of the same input; the download keeps working after the origin that
 * made it is gone.
 */
import { describe, expect } from 'vitest';
import type { Job } from '../../shared/schemas/jobs.ts';
import { apiClient } from '../helpers/api.ts';
import { jobsStartedBy } from '../helpers/cluster.ts';
import { creditsOf, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { openSocket, streamProblems } from '../helpers/ws-client.ts';

it.override({ clusterOptions: { origins: 2, env: { POOL_THREADS: '1' }, edge: {} } });

const input = { prompt: 'two origins, one song', seed: 11, duration: 2 };

describe('a job through the edge over two origins', () => {
  it('is watched live and downloaded from R2, the same bytes as one origin makes', async ({
    cluster,
    fileOrigins,
  }) => {
    const api = cluster.edgeApi;
    const { token } = await api.signUp();
    const socket = await openSocket(cluster.edge?.url ?? '', { token });
    const job = await submitJob(api, token, 'tone-diffusion', input);
    await socket.subscribe(job.id, 0);
    const events = await socket.untilTerminal(job.id, 30_000);
    expect(streamProblems(events)).toEqual([]);
    expect(events.at(-1)?.event).toBe('succeeded');
    const done = events.at(-1)?.job as Job;
    const file = await api.call('GET', done.output?.url ?? '', { token });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    expect(file.bytes.length).toBe(done.output?.bytes);

    // One origin on SQLite, its outputs on its own disk: the same input, the same bytes.
    const single = await fileOrigins.start({ env: { POOL_THREADS: '1' } });
    const alone = apiClient(single.url);
    const user = await alone.signUp();
    const there = await submitJob(alone, user.token, 'tone-diffusion', input);
    const ended = await alone.waitForJob(user.token, there.id, undefined, 30_000);
    const reference = await alone.call('GET', ended.output?.url ?? '', { token: user.token });
    expect(reference.status).toBe(200);
    expect(Buffer.from(file.bytes).equals(Buffer.from(reference.bytes))).toBe(true);

    // The origin that made it dies: the output is still there, from the bucket.
    const maker = cluster.origins.find((o) => jobsStartedBy(o).includes(job.id));
    expect(maker).toBeDefined();
    await maker?.kill('SIGKILL');
    const again = await api.call('GET', done.output?.url ?? '', { token });
    expect(again.status).toBe(200);
    expect(Buffer.from(again.bytes).equals(Buffer.from(file.bytes))).toBe(true);
    expect(await creditsOf(api, token)).toBe(19);
    socket.ws.close();
    // The cluster (a database, two origins, wrangler) starts inside this test: its time counts.
  }, 120_000);
});
