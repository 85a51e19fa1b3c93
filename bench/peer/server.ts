/**
 * The queue bench's same-path peer: what a team would build instead of Overture, in one Node
 * process (started by bench/lib/peer-process.ts). Hono on Node answers `POST /v1/jobs`: it
 * verifies the bearer token (an HS256 JWT, jose), parses the JSON body, adds a BullMQ job and
 * answers 202 `{id}`. A BullMQ Worker in this process (WORKER_CONCURRENCY at once) runs each
 * job, doing nothing; QueueEvents' `completed` sends `{type:'job', jobId, event:'succeeded'}`
 * to the WebSocket (`/v1/ws?token=…`) of the job's user. Its durability is its Redis's
 * (REDIS_PORT; the bench's fsyncs every write). Prints `{"msg":"listening","port":…}` once it
 * listens; stops on SIGTERM.
 */
import { serve, upgradeWebSocket } from '@hono/node-server';
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Hono } from 'hono';
import type { WSContext } from 'hono/ws';
import { jwtVerify } from 'jose';
import { WebSocketServer } from 'ws';

interface JobData {
  userId: string;
  input: unknown;
}

const connection = { host: '127.0.0.1', port: Number(process.env.REDIS_PORT) };
const secret = new TextEncoder().encode(process.env.JWT_SECRET);
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 8);
const queueName = 'jobs';

const queue = new Queue<JobData>(queueName, { connection });
const events = new QueueEvents(queueName, { connection });
// The job's user is its return value: the `completed` event carries it back to this process
// (or to any other listening on the queue) without a read of the job.
const worker = new Worker<JobData, string>(queueName, async (job) => job.data.userId, {
  connection,
  concurrency,
});
await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), worker.waitUntilReady()]);

/** The user (`sub`) of a token that verifies, else undefined. */
async function userOf(token: string | undefined): Promise<string | undefined> {
  if (!token) return undefined;
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
    return payload.sub;
  } catch {
    return undefined;
  }
}

/** Each user's open WebSocket: the last one opened. */
const sockets = new Map<string, WSContext>();

const notify = (userId: string, jobId: string, event: 'succeeded' | 'failed') =>
  sockets.get(userId)?.send(JSON.stringify({ type: 'job', jobId, event }));

events.on('completed', ({ jobId, returnvalue }) => notify(String(returnvalue), jobId, 'succeeded'));
// Not expected of a job that does nothing; a failed one has no return value: read its user.
events.on('failed', ({ jobId }) => {
  void Job.fromId<JobData>(queue, jobId).then((job) => {
    if (job) notify(job.data.userId, jobId, 'failed');
  });
});

const app = new Hono<{ Variables: { userId: string } }>();

app.post('/v1/jobs', async (c) => {
  const userId = await userOf(c.req.header('authorization')?.replace(/^Bearer /, ''));
  if (!userId) return c.json({ error: 'unauthorized' }, 401);
  const body = await c.req.json<{ model?: unknown; input?: unknown }>().catch(() => undefined);
  if (typeof body?.model !== 'string') return c.json({ error: 'model: expected a string' }, 400);
  const job = await queue.add(body.model, { userId, input: body.input ?? {} });
  return c.json({ id: job.id }, 202);
});

app.get(
  '/v1/ws',
  async (c, next) => {
    const userId = await userOf(c.req.query('token'));
    if (!userId) return c.json({ error: 'unauthorized' }, 401);
    c.set('userId', userId);
    await next();
  },
  upgradeWebSocket((c) => {
    const userId = c.get('userId');
    return {
      onOpen: (_event, ws) => {
        sockets.set(userId, ws);
      },
      onClose: (_event, ws) => {
        if (sockets.get(userId) === ws) sockets.delete(userId);
      },
    };
  }),
);

const wss = new WebSocketServer({ noServer: true });
const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: wss } },
  (info) => console.log(JSON.stringify({ msg: 'listening', port: info.port })),
);

process.once('SIGTERM', async () => {
  for (const ws of sockets.values()) ws.close();
  wss.close();
  server.close();
  await worker.close();
  await events.close();
  await queue.close();
  process.exit(0);
});
