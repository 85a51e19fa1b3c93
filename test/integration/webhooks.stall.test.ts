/**
 * One user's webhook receivers that answer a byte at a time cannot stall anyone else's on a
 * real origin: every attempt has a whole deadline, attempts run on their own, a user has
 * a bounded number under way, a restart does not stall on the stuck one, and a graceful stop
 * stops waiting for it when its grace is over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import type { Job, WebhookDeliveryInfo } from '../../shared/schemas/jobs.ts';
import { type Api, apiClient } from '../helpers/api.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { startReceiver, waitForDeliveries } from '../helpers/webhook-receiver.ts';

// Long enough that another user's delivery lands well inside it on a loaded machine.
const deadlineMs = 3_000;
const perUser = 2;
const env = {
  MODEL_DIR: fixtureModels,
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_TIMEOUT_MS: String(deadlineMs),
  // No retry comes due while a test looks.
  WEBHOOK_RETRY_BASE_MS: '60000',
  WEBHOOK_CONCURRENCY: '8',
  WEBHOOK_MAX_IN_FLIGHT_PER_USER: String(perUser),
};
it.override({ originOptions: { env } });

/** A byte of the status line every 200 ms: the socket is never idle, the answer never comes. */
const drip = () => ({ drip: 'headers', everyMs: 200 }) as const;

/** A quick `steps` job of `token`'s user whose terminal event is sent to `url`. */
async function hookedJob(api: Api, token: string, url: string): Promise<Job> {
  const res = await api.call<Job>('POST', '/v1/jobs', {
    token,
    body: { model: 'steps', input: { steps: 1, stepMs: 0 }, webhook: { url } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body;
}

/** Another user's job to a receiver that answers at once: delivered while `stuck` holds. */
async function deliveredBeside(api: Api, stuck: () => Promise<WebhookDeliveryInfo>) {
  const victim = await api.signUp();
  const fast = await startReceiver(() => 204);
  const job = await hookedJob(api, victim.token, fast.url);
  await fast.waitForCount(1, deadlineMs);
  const [delivered] = await waitForDeliveries(api, victim.token, job.id, ([d]) =>
    Boolean(d && d.status !== 'pending'),
  );
  expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204 });
  // The stuck attempt had not ended: the fast one did not wait for it.
  expect(await stuck()).toMatchObject({ status: 'pending', lastError: null });
}

const only = async (api: Api, token: string, jobId: string) => {
  const res = await api.call<{ data: WebhookDeliveryInfo[] }>(
    'GET',
    `/v1/jobs/${jobId}/webhook-deliveries`,
    { token },
  );
  const [d] = res.body.data;
  if (!d) throw new Error(`job ${jobId} has no delivery`);
  return d;
};

describe('a receiver that answers a byte at a time', () => {
  it("delays no other user's delivery, and its attempt ends at the deadline as a retry", async ({
    api,
  }) => {
    const attacker = await api.signUp();
    const slow = await startReceiver(drip);
    const job = await hookedJob(api, attacker.token, slow.url);
    // When the receiver had the request (this process's clock): the origin's deadline began
    // a little before, at its connect, so the attempt ends a little less than it after this.
    const [hit] = await slow.waitForCount(1);
    const sentAt = hit?.at ?? Date.now();

    await deliveredBeside(api, () => only(api, attacker.token, job.id));

    const [ended] = await waitForDeliveries(
      api,
      attacker.token,
      job.id,
      ([d]) => d?.lastError !== null,
    );
    const recordedAt = Date.now();
    expect(ended).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(ended?.lastError).toBe(`timed out after ${deadlineMs} ms`);
    expect(recordedAt - sentAt).toBeGreaterThanOrEqual(deadlineMs - 250);
    expect(recordedAt - sentAt).toBeLessThan(deadlineMs + 1_500);
    // The retry waits its backoff; the connection was closed, not left to trickle.
    expect(Date.parse(ended?.nextAttemptAt ?? '')).toBeGreaterThan(recordedAt + 50_000);
    await expect.poll(() => slow.connections().open).toBe(0);
  });

  it(`lets one user have at most ${perUser} attempts under way`, async ({ api }) => {
    const attacker = await api.signUp();
    const slow = await startReceiver(drip);
    const jobs: Job[] = [];
    for (let i = 0; i < 5; i++) jobs.push(await hookedJob(api, attacker.token, slow.url));
    // Every job ended, so each has its delivery: the fair queue may otherwise start the
    // victim's job below before the attacker's last ones (it holds threads, the victim none).
    for (const job of jobs) await api.waitForJob(attacker.token, job.id);
    await slow.waitForCount(perUser);
    await deliveredBeside(api, async () => {
      const listed = await Promise.all(jobs.map((j) => only(api, attacker.token, j.id)));
      const underWay = listed.filter((d) => d.attempts === 1 && d.lastError === null);
      return underWay[0] ?? (listed[0] as WebhookDeliveryInfo);
    });
    // As the first end at their deadline, the next go: never more than the bound at once.
    await slow.waitForCount(2 * perUser, 3 * deadlineMs);
    expect(slow.connections().most).toBe(perUser);
  });
});

describe('a stuck delivery across a restart', () => {
  it('counts the attempt before sending, waits out its claim, and stalls nobody when it goes again', async ({
    origins,
  }) => {
    const dataDir = origins.dataDir();
    // The claim lasts max(LEASE_MS, 2 × deadline): 6 s, longer than a restart takes here.
    const first = await origins.start({ dataDir, env });
    const slow = await startReceiver(drip);
    const attacker = await apiClient(first.url).signUp();
    const job = await hookedJob(apiClient(first.url), attacker.token, slow.url);
    await slow.waitForCount(1);
    await first.kill('SIGKILL');

    // Listening is enough to read deliveries; its deliverer has started by then.
    const second = await origins.start({ dataDir, env, waitReady: false });
    const api = apiClient(second.url);
    const left = await only(api, attacker.token, job.id);
    // Recorded before anything was sent: the attempt counts, its claim stands.
    expect(left).toMatchObject({ status: 'pending', attempts: 1, lastError: null });
    const claimEnds = Date.parse(left.nextAttemptAt ?? '');
    expect(claimEnds).toBeGreaterThan(Date.now());

    await slow.waitForCount(2, 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(claimEnds - 50);
    await expect
      .poll(async () => (await api.call('GET', '/v1/health')).status, { timeout: 30_000 })
      .toBe(200);
    // It is under way again on the restarted origin: another user's delivery does not wait.
    await deliveredBeside(api, () => only(api, attacker.token, job.id));
    const [ended] = await waitForDeliveries(
      api,
      attacker.token,
      job.id,
      ([d]) => d?.attempts === 2 && d.lastError !== null,
    );
    expect(ended).toMatchObject({
      status: 'pending',
      lastError: `timed out after ${deadlineMs} ms`,
    });
  });
});

describe('a graceful stop with an attempt under way', () => {
  it('stops waiting for it when the grace is over, and leaves it to its claim', async ({
    origins,
  }) => {
    const graceMs = 1_000;
    const dataDir = origins.dataDir();
    // A deadline far past the grace: only the stop's own bound can end the wait.
    const stopEnv = { ...env, SHUTDOWN_GRACE_MS: String(graceMs), WEBHOOK_TIMEOUT_MS: '120000' };
    const origin = await origins.start({ dataDir, env: stopEnv });
    const slow = await startReceiver(drip);
    const attacker = await apiClient(origin.url).signUp();
    const job = await hookedJob(apiClient(origin.url), attacker.token, slow.url);
    await slow.waitForCount(1);

    const stopping = Date.now();
    const exited = await Promise.race([origin.kill('SIGTERM'), sleep(15_000, 'still running')]);
    const stoppedIn = Date.now() - stopping;
    expect(exited).toBe(0);
    expect(stoppedIn).toBeLessThan(graceMs + 4_000);
    expect(origin.output()).toContain('webhook attempts left to their claims');
    await expect.poll(() => slow.connections().open).toBe(0);

    const again = await origins.start({ dataDir, env: stopEnv });
    const left = await only(apiClient(again.url), attacker.token, job.id);
    expect(left).toMatchObject({ status: 'pending', attempts: 1, lastError: null });
  });
});
