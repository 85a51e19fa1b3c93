import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../edge/middleware/rate-limit/limiter.ts';

const limiter = () => {
  const ns = env.RATE_LIMITER as DurableObjectNamespace<RateLimiter>;
  return ns.get(ns.idFromName(`limiter-test|${crypto.randomUUID()}`));
};
const stored = (stub: DurableObjectStub<RateLimiter>) =>
  runInDurableObject(stub, async (_, state) => ({
    keys: [...state.storage.kv.list()].map(([k]) => k),
    alarm: await state.storage.getAlarm(),
  }));

describe('the limiter Durable Object', () => {
  it('sets an alarm for when the bucket is full again', async () => {
    const stub = limiter();
    const before = Date.now();
    await stub.take(10, 60);
    const { keys, alarm } = await stored(stub);
    expect(keys).toEqual(['bucket']);
    // One token back every 6 s.
    expect(alarm).toBeGreaterThanOrEqual(before + 6_000);
    expect(alarm).toBeLessThanOrEqual(Date.now() + 6_000 + 1);
  });

  it('deletes its storage once the bucket is full again, and starts full after that', async () => {
    const stub = limiter();
    await stub.take(2, 1);
    await stub.take(2, 1);
    expect((await stored(stub)).keys).toEqual(['bucket']);
    // Full again after 1 s: the alarm, at that time, deletes everything.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await stored(stub)).toEqual({ keys: [], alarm: null });
    expect(await stub.take(2, 1)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('keeps a bucket that is not full yet, and comes back when it will be', async () => {
    const stub = limiter();
    await stub.take(3, 60);
    // Taken again after the alarm was set: the bucket is full later than the alarm said.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stub.take(3, 60);
    const first = (await stored(stub)).alarm ?? 0;
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await stored(stub);
    expect(after.keys).toEqual(['bucket']);
    expect(after.alarm).toBeGreaterThan(first);
    expect(await stub.take(3, 60)).toMatchObject({ allowed: true, remaining: 0 });
  });
});
