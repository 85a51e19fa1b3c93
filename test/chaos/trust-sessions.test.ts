/**
 * Chaos: sessions and WebSocket budgets under abuse, on a real origin behind a real edge.
 * Ended tokens (signed out, a password changed, expired) are refused on every route and their
 * sockets closed (4401); JWTs re-spelled in their unused bits are refused; WebSocket floods are
 * closed (1008) after their burst; subscribes that replay a long history again and again are
 * closed (1008) within the replay budget, and the origin serves on throughout.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { closeCodes } from '../../shared/ws-messages.ts';
import { type Api, uniqueEmail } from '../helpers/api.ts';
import type { EdgePair } from '../helpers/edge-pair.ts';
import { submitJob } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { mintSession, nowS, respellings } from '../helpers/jwt.ts';
import { openSocket, type TestSocket } from '../helpers/ws-client.ts';
import { Figures } from './figures.ts';

const jwtSecret = `jwt-${randomBytes(24).toString('hex')}`;
const recheckMs = 1_000;
const replay = { burst: 500, perS: 100 };
it.override({
  pairOptions: {
    originEnv: {
      JWT_SECRET: jwtSecret,
      WS_AUTH_RECHECK_MS: String(recheckMs),
      WS_MAX_REPLAY_EVENTS: String(replay.burst),
      WS_REPLAY_EVENTS_PER_S: String(replay.perS),
      PROGRESS_INTERVAL_MS: '0',
    },
    // Budgets out of the way: this file is about what the origin refuses, not the edge's limits.
    edgeVars: {
      RATE_LIMIT_AUTH: '100000/60',
      RATE_LIMIT_JOBS: '100000/60',
      RATE_LIMIT_DEFAULT: '1000000/60',
      RATE_LIMIT_UPGRADES: '1000000/60',
    },
  },
});

const password = 'correct horse battery';
const routes = [
  ['GET', '/v1/me'],
  ['GET', '/v1/jobs?limit=5'],
  ['GET', '/v1/api-keys'],
  ['GET', '/v1/billing/ledger'],
  ['POST', '/v1/auth/logout'],
] as const;

const figures = new Figures('trust');

async function login(api: Api, email: string, pw = password): Promise<string> {
  const res = await api.call('POST', '/v1/auth/login', { body: { email, password: pw } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token;
}

/** A socket through the edge, authenticated by its first message. */
async function socketFor(pair: EdgePair, token: string): Promise<TestSocket> {
  const socket = await openSocket(pair.edge.url);
  socket.send({ type: 'auth', token });
  await socket.waitFor((m) => m.type === 'ready');
  return socket;
}

/** Counts every route's answer to an ended token as held when it is 401; answers the failures. */
async function refusedEverywhere(pair: EdgePair, kind: string, token: string): Promise<string[]> {
  const failures: string[] = [];
  for (const [method, path] of routes) {
    const res = await pair.api.call(method, path, { token });
    figures.count(kind, res.status === 401);
    if (res.status !== 401) failures.push(`${method} ${path}: ${res.status}`);
  }
  const late = await openSocket(pair.edge.url);
  late.send({ type: 'auth', token });
  const closed = await late.whenClosed(10_000);
  const held = closed.code === closeCodes.unauthorized && late.messages.length === 0;
  figures.count(kind, held);
  if (!held) failures.push(`WebSocket: ${JSON.stringify(closed)}`);
  return failures;
}

describe('ended session tokens', () => {
  it('a sign-out refuses its token on every route and closes its sockets; other sessions hold', async ({
    pair,
  }) => {
    const failures: string[] = [];
    for (let u = 0; u < 6; u++) {
      const user = await pair.api.signUp(uniqueEmail(), password);
      const kept = await login(pair.api, user.email);
      const open = [await socketFor(pair, user.token), await socketFor(pair, user.token)];
      const keptSocket = await socketFor(pair, kept);
      const out = await pair.api.call('POST', '/v1/auth/logout', { token: user.token });
      expect(out.status).toBe(204);
      for (const s of open) {
        const closed = await s.whenClosed(recheckMs + 5_000);
        figures.count(
          'signed-out token → 401, its sockets 4401',
          closed.code === closeCodes.unauthorized,
        );
      }
      failures.push(
        ...(await refusedEverywhere(pair, 'signed-out token → 401, its sockets 4401', user.token)),
      );
      const me = await pair.api.call('GET', '/v1/me', { token: kept });
      const held = me.status === 200 && keptSocket.isOpen;
      figures.count('another session of the user holds', held);
      if (!held) failures.push(`the other session: ${me.status}, open ${keptSocket.isOpen}`);
    }
    expect(failures).toEqual([]);
  });

  it('a password change refuses every session of the user and closes their sockets; API keys hold', async ({
    pair,
  }) => {
    const failures: string[] = [];
    for (let u = 0; u < 4; u++) {
      const user = await pair.api.signUp(uniqueEmail(), password);
      const sessions = [
        user.token,
        await login(pair.api, user.email),
        await login(pair.api, user.email),
      ];
      const sockets = await Promise.all(sessions.map((t) => socketFor(pair, t)));
      const key = await pair.api.call('POST', '/v1/api-keys', {
        token: user.token,
        body: { name: 'k' },
      });
      const keySocket = await socketFor(pair, key.body.key);
      const newPassword = `new-${randomBytes(8).toString('hex')}`;
      const changed = await pair.api.call('POST', '/v1/auth/password', {
        token: sessions[1],
        body: { currentPassword: password, newPassword },
      });
      expect(changed.status).toBe(204);
      for (const s of sockets) {
        const closed = await s.whenClosed(recheckMs + 5_000);
        figures.count(
          'sessions after a password change → 401, sockets 4401',
          closed.code === closeCodes.unauthorized,
        );
      }
      for (const t of sessions) {
        failures.push(
          ...(await refusedEverywhere(
            pair,
            'sessions after a password change → 401, sockets 4401',
            t,
          )),
        );
      }
      const oldLogin = await pair.api.call('POST', '/v1/auth/login', {
        body: { email: user.email, password },
      });
      figures.count(
        'sessions after a password change → 401, sockets 4401',
        oldLogin.status === 401,
      );
      const keyMe = await pair.api.call('GET', '/v1/me', { token: key.body.key });
      const held = keyMe.status === 200 && keySocket.isOpen;
      figures.count('API keys hold through a password change', held);
      if (!held) failures.push(`the key: ${keyMe.status}, open ${keySocket.isOpen}`);
      await login(pair.api, user.email, newPassword);
    }
    expect(failures).toEqual([]);
  });

  it('an expired token is refused, and its socket closed within a re-check of the expiry', async ({
    pair,
  }) => {
    const failures: string[] = [];
    const users = await Promise.all(
      [0, 1, 2, 3].map(() => pair.api.signUp(uniqueEmail(), password)),
    );
    const exp = nowS() + 2;
    const tokens = await Promise.all(users.map((u) => mintSession(jwtSecret, { sub: u.id, exp })));
    const sockets = await Promise.all(tokens.map((t) => socketFor(pair, t)));
    for (const s of sockets) {
      const closed = await s.whenClosed(10_000);
      const late = Date.now() - exp * 1000;
      const held = closed.code === closeCodes.unauthorized && late < recheckMs + 2_000;
      figures.count(
        'expired token → 401, its socket 4401 within a re-check',
        held,
        `re-check every ${recheckMs} ms`,
      );
      if (!held) failures.push(`closed ${JSON.stringify(closed)} ${late} ms after expiry`);
    }
    for (const t of tokens)
      failures.push(
        ...(await refusedEverywhere(
          pair,
          'expired token → 401, its socket 4401 within a re-check',
          t,
        )),
      );
    expect(failures).toEqual([]);
  });
});

describe('re-spelled JWTs', () => {
  it('every other spelling of a valid token is refused over HTTP and WebSocket; the token itself works', async ({
    pair,
  }) => {
    const failures: string[] = [];
    for (let u = 0; u < 5; u++) {
      const user = await pair.api.signUp(uniqueEmail(), password);
      const tokens = [user.token, await login(pair.api, user.email)];
      for (const token of tokens) {
        const others = respellings(token);
        expect(others.length).toBeGreaterThanOrEqual(3);
        for (const { part, token: other } of others) {
          for (const path of ['/v1/me', '/v1/jobs?limit=1']) {
            const res = await pair.api.call('GET', path, { token: other });
            figures.count(
              're-spelled JWT → 401',
              res.status === 401,
              'the last character of a part, its unused bits changed',
            );
            if (res.status !== 401) failures.push(`part ${part} on ${path}: ${res.status}`);
          }
          const socket = await openSocket(pair.edge.url);
          socket.send({ type: 'auth', token: other });
          const closed = await socket.whenClosed(10_000);
          const held = closed.code === closeCodes.unauthorized && socket.messages.length === 0;
          figures.count('re-spelled JWT → 401', held);
          if (!held) failures.push(`part ${part} over WebSocket: ${JSON.stringify(closed)}`);
        }
        // The control: the canonical spelling is accepted.
        expect((await pair.api.call('GET', '/v1/me', { token })).status).toBe(200);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('WebSocket budgets', () => {
  it('closes every flooding socket (1008) after its burst, while the origin serves on', async ({
    pair,
  }) => {
    const failures: string[] = [];
    const flood = 1_000;
    // The default rate (20/s) with a burst of a full resubscribe (WS_MAX_SUBSCRIPTIONS + 1).
    const burst = 101;
    const user = await pair.api.signUp(uniqueEmail(), password);
    const sockets = await Promise.all(
      Array.from({ length: 10 }, () => socketFor(pair, user.token)),
    );
    const started = Date.now();
    for (const s of sockets) {
      for (let i = 0; i < flood; i++) s.send({ type: 'unsubscribe', jobId: `job_flood${i}` });
    }
    const healthMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const at = Date.now();
      const res = await pair.api.call('GET', '/v1/health');
      healthMs.push(Date.now() - at);
      figures.count('origin serves during the floods', res.status === 200);
    }
    const f = figures.get('origin serves during the floods');
    if (f) f.note = `/v1/health through the edge, slowest ${Math.max(...healthMs)} ms`;
    for (const s of sockets) {
      const closed = await s.whenClosed(15_000);
      const answered = s.messages.filter((m) => m.type === 'unsubscribed').length;
      const allowed = burst + ((Date.now() - started) / 1000) * 20;
      const held = closed.code === closeCodes.policyViolation && answered <= allowed;
      figures.count(
        'WebSocket flood → 1008 after its burst',
        held,
        `${flood} messages sent at once per socket; burst ${burst}, 20/s`,
      );
      if (!held) failures.push(`closed ${JSON.stringify(closed)} after ${answered} answers`);
    }
    // A new socket of the same user is served.
    const after = await socketFor(pair, user.token);
    expect(await after.subscribe('job_01M8000000000000000000000Z')).toMatchObject({
      code: 'not_found',
    });
    expect(failures).toEqual([]);
  });

  it('bounds replay-heavy subscribes: since 0 on a long history, again and again, closes 1008', async ({
    pair,
  }) => {
    const failures: string[] = [];
    const user = await pair.api.signUp(uniqueEmail(), password);
    const job = await submitJob(pair.api, user.token, 'steps', { steps: 200, stepMs: 0 });
    const done = await pair.api.waitForJob(user.token, job.id, undefined, 60_000);
    expect(done.seq).toBeGreaterThan(200);
    let demanded = 0;
    let served = 0;
    for (let s = 0; s < 6; s++) {
      const socket = await socketFor(pair, user.token);
      const started = Date.now();
      for (let i = 0; i < 20; i++) socket.send({ type: 'subscribe', jobId: job.id, since: 0 });
      demanded += 20 * done.seq;
      const closed = await socket.whenClosed(15_000);
      const replayed = socket.jobEvents(job.id).length;
      served += replayed;
      const allowed = replay.burst + ((Date.now() - started) / 1000) * replay.perS;
      const held = closed.code === closeCodes.policyViolation && replayed <= allowed;
      figures.count(
        'replay-heavy subscribes → 1008 within the replay budget',
        held,
        `budget ${replay.burst}, ${replay.perS}/s`,
      );
      if (!held)
        failures.push(
          `closed ${JSON.stringify(closed)} after ${replayed} events (allowed ${allowed})`,
        );
    }
    // An honest client resuming from its last seq is served whole.
    const honest = await socketFor(pair, user.token);
    await honest.subscribe(job.id, done.seq - 5);
    await honest.waitFor((m) => m.type === 'job' && m.seq === done.seq);
    await sleep(200);
    const held = honest.isOpen && honest.jobEvents(job.id).length === 5;
    figures.count('an honest resume is served', held);
    if (!held) failures.push('the honest resume');
    const f = figures.get('replay-heavy subscribes → 1008 within the replay budget');
    if (f) f.note = `${f.note}; ${served} of ${demanded} events asked for were sent`;
    expect(failures).toEqual([]);
  });
});

describe('the figures', () => {
  it('are recorded, with nothing lost', ({ pair }) => {
    expect(pair.origin.child.exitCode).toBeNull();
    figures.expectNoneLost('trust-sessions', { atLeast: 8 });
  });
});
