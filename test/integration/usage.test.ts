/**
 * `GET /v1/usage` on a real origin: a user's jobs and credits per day agree with the ledger
 * route's rows day by day (whatever the caller's offset), and nobody sees anybody else's.
 */
import { describe, expect } from 'vitest';
import type { LedgerAnswer } from '../../shared/schemas/billing.ts';
import type { Job } from '../../shared/schemas/jobs.ts';
import { type UsageAnswer, usageAnswerSchema } from '../../shared/schemas/usage.ts';
import type { Api } from '../helpers/api.ts';
import { expectApiError, submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { fixtureModels } from '../helpers/paths.ts';

it.override({ originOptions: { env: { MODEL_DIR: fixtureModels } } });

const quick = { steps: 1, stepMs: 0 };

/** The ledger route's rows summed per day of `utcOffset` (minutes east of UTC). */
async function ledgerByDay(api: Api, token: string, utcOffset: number) {
  const res = await api.call<LedgerAnswer>('GET', '/v1/billing/ledger', { token });
  expect(res.status).toBe(200);
  const days = new Map<string, { net: number; spent: number; refunded: number; granted: number }>();
  for (const row of res.body.data) {
    const date = new Date(Date.parse(row.createdAt) + utcOffset * 60_000)
      .toISOString()
      .slice(0, 10);
    const day = days.get(date) ?? { net: 0, spent: 0, refunded: 0, granted: 0 };
    day.net += row.delta;
    if (row.reason === 'job') day.spent -= row.delta;
    if (row.reason === 'refund') day.refunded += row.delta;
    if (row.reason === 'grant') day.granted += row.delta;
    days.set(date, day);
  }
  return { days, balance: res.body.balance, rows: res.body.data };
}

describe('GET /v1/usage on a real origin', () => {
  let user: { token: string };
  let other: { token: string };

  it.beforeAll(async ({ api }) => {
    [user, other] = await Promise.all([api.signUp(), api.signUp()]);
    const long = await submitJob(api, user.token, 'steps', { steps: 200, stepMs: 50 });
    const canceled = await api.call<Job>('POST', `/v1/jobs/${long.id}/cancel`, {
      token: user.token,
    });
    expect(canceled.body.status).toBe('canceled');
    const jobs = [
      await submitJob(api, user.token, 'steps', quick),
      await submitJob(api, user.token, 'steps', { ...quick, fail: true }),
      await submitJob(api, user.token, 'steps', quick),
    ];
    await Promise.all(jobs.map((j) => api.waitForJob(user.token, j.id)));
  });

  it.for([[0], [-600], [540], [840]])(
    'agrees with the ledger route day by day, at UTC%+d minutes',
    async ([utcOffset], { api }) => {
      const res = await api.call<UsageAnswer>('GET', `/v1/usage?utcOffset=${utcOffset}`, {
        token: user.token,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const usage = usageAnswerSchema.parse(res.body);
      expect(usage).toMatchObject({ days: 30, utcOffset });
      expect(usage.data).toHaveLength(30);
      const ledger = await ledgerByDay(api, user.token, utcOffset ?? 0);
      for (const day of usage.data) {
        const rows = ledger.days.get(day.date) ?? { net: 0, spent: 0, refunded: 0, granted: 0 };
        expect(
          {
            net: day.credits.net,
            spent: day.credits.spent,
            refunded: day.credits.refunded,
            granted: day.credits.granted,
          },
          day.date,
        ).toEqual(rows);
      }
      // Every ledger row falls on one of the days answered; together they are the balance.
      expect([...ledger.days.keys()].every((d) => usage.data.some((u) => u.date === d))).toBe(true);
      expect(usage.total.credits).toMatchObject({ granted: 20, spent: 4, refunded: 2, net: 18 });
      expect(usage.total.credits.net).toBe(ledger.balance);
      expect(usage.total).toMatchObject({ jobs: 4, succeeded: 2, failed: 1, canceled: 1, open: 0 });
      // The jobs counted each day are the days' `job` rows: one debit per job.
      for (const day of usage.data) expect(day.credits.spent, day.date).toBe(day.jobs);
    },
  );

  it('shows each user only their own usage; anonymous callers get 401', async ({ api }) => {
    const res = await api.call<UsageAnswer>('GET', '/v1/usage?days=1', { token: other.token });
    expect(res.status).toBe(200);
    expect(res.body.total).toMatchObject({ jobs: 0, credits: { granted: 20, spent: 0, net: 20 } });
    expectApiError(await api.call('GET', '/v1/usage'), 401, 'unauthorized');
  });

  it.for([['days=0'], ['days=91'], ['days=x'], ['utcOffset=900'], ['utcOffset=1.5'], ['day=3']])(
    'answers 400 invalid_request to %s',
    async ([query], { api }) => {
      const res = await api.call('GET', `/v1/usage?${query}`, { token: user.token });
      expectApiError(res, 400, 'invalid_request');
      expect(res.body.error.details).toEqual(expect.any(Array));
    },
  );
});
