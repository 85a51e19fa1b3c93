import { type RedisServer, startRedis } from './redis.ts';

/** Raw BullMQ, called in the bench's own process: no HTTP, no auth, no sockets. */
export interface RawBullmq {
  add(): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ on its own Redis: add a no-op job and wait for its completed event. */
export async function rawBullmq(
  bin: string,
  durable: boolean,
  concurrency: number,
  clients: number,
): Promise<RawBullmq> {
  const redis = await startRedis(bin, durable);
  try {
    return await rawBullmqOn(redis, concurrency, clients);
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

/** A queue, its events and a no-op worker on `redis`; closing them stops `redis` too. */
async function rawBullmqOn(
  redis: RedisServer,
  concurrency: number,
  clients: number,
): Promise<RawBullmq> {
  const { Queue, QueueEvents, Worker } = await import('bullmq');
  const connection = { host: '127.0.0.1', port: redis.port };
  const name = `noop-${process.pid}`;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const worker = new Worker(name, async () => 1, { connection, concurrency });
  // Each waiting client listens on the queue and its events: more than Node's default 10.
  queue.setMaxListeners(clients * 4);
  events.setMaxListeners(clients * 4);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);
  return {
    async add() {
      // Kept, not removed on completion: waitUntilFinished reads the finished job back.
      const job = await queue.add('noop', {});
      await job.waitUntilFinished(events);
    },
    async close() {
      await worker.close();
      await events.close();
      await queue.close();
      await redis.stop();
    },
  };
}
