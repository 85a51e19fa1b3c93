import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect } from 'vitest';
import { apiKeyTags } from '../../shared/api-key.ts';
import { apiClient, uniqueEmail } from '../helpers/api.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { testModelDir } from '../helpers/origin-process.ts';
import { repoRoot } from '../helpers/paths.ts';

const jwtSecret = 'integration-test-secret-that-is-long-enough';
it.override({ originOptions: { env: { JWT_SECRET: jwtSecret } } });

/** A session-shaped JWT (a token id, session version 0), signed as the test wishes. */
function forge(claims: { sub: string; exp: number }, secret = jwtSecret): Promise<string> {
  return new SignJWT({ sv: 0 })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer('overture')
    .setJti(crypto.randomUUID())
    .setIssuedAt(claims.exp - 3600)
    .setExpirationTime(claims.exp)
    .sign(new TextEncoder().encode(secret));
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('register and login', () => {
  it('registers with 201, the user and a token that works', async ({ api }) => {
    const email = uniqueEmail();
    const res = await api.call('POST', '/v1/auth/register', {
      body: { email, password: 'correct horse battery' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: { id: expect.stringMatching(/^usr_/), email },
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    });
    const me = await api.call('GET', '/v1/me', { token: res.body.token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: res.body.user, credits: 20, admin: false });
  });

  it('normalises the email (case, spaces) and refuses a duplicate with 409', async ({ api }) => {
    const local = `Mixed.Case-${crypto.randomUUID()}`;
    const first = await api.call('POST', '/v1/auth/register', {
      body: { email: `  ${local}@Example.TEST `, password: 'correct horse battery' },
    });
    expect(first.status).toBe(201);
    expect(first.body.user.email).toBe(`${local.toLowerCase()}@example.test`);

    const duplicate = await api.call('POST', '/v1/auth/register', {
      body: { email: `${local.toLowerCase()}@example.test`, password: 'another password' },
    });
    expectApiError(duplicate, 409, 'conflict');

    const login = await api.call('POST', '/v1/auth/login', {
      body: { email: ` ${local.toUpperCase()}@EXAMPLE.test`, password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
    expect(login.body.user).toEqual(first.body.user);
  });

  it('logs in with the right password and answers a working token', async ({ api }) => {
    const user = await api.signUp();
    const res = await api.call('POST', '/v1/auth/login', {
      body: { email: user.email, password: user.password },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: user.id, email: user.email });
    const me = await api.call('GET', '/v1/me', { token: res.body.token });
    expect(me.body.user.id).toBe(user.id);
  });

  it('answers a wrong password and an unknown email with the same 401', async ({ api }) => {
    const user = await api.signUp();
    const wrong = await api.call('POST', '/v1/auth/login', {
      body: { email: user.email, password: 'not the password' },
    });
    const unknown = await api.call('POST', '/v1/auth/login', {
      body: { email: uniqueEmail(), password: 'not the password' },
    });
    expectApiError(wrong, 401, 'unauthorized');
    expectApiError(unknown, 401, 'unauthorized');
    const withoutRequestId = (body: { error: Record<string, unknown> }) => {
      const { requestId: _, ...rest } = body.error;
      return rest;
    };
    expect(withoutRequestId(unknown.body)).toEqual(withoutRequestId(wrong.body));
    expect(unknown.headers.get('www-authenticate')).toBe(wrong.headers.get('www-authenticate'));
  });
});

describe('API keys', () => {
  it('shows a new key once, lists it without the key, and accepts it as a bearer token', async ({
    api,
  }) => {
    const user = await api.signUp();
    const created = await api.call('POST', '/v1/api-keys', {
      token: user.token,
      body: { name: 'ci' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'ci',
      prefix: expect.stringMatching(/^ovt_/),
      key: expect.stringMatching(/^ovt_/),
    });
    const { key, prefix } = created.body;
    expect(key.startsWith(prefix)).toBe(true);
    expect(key.length).toBeGreaterThan(prefix.length + 20);
    // It names its user under JWT_SECRET, as the edge reads it to count the user's budget.
    expect(await apiKeyTags(new TextEncoder().encode(jwtSecret)).userOf(key)).toBe(user.id);

    const listed = await api.call('GET', '/v1/api-keys', { token: user.token });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      {
        id: created.body.id,
        name: 'ci',
        prefix,
        createdAt: expect.any(String),
        lastUsedAt: null,
      },
    ]);
    expect(listed.text).not.toContain(key);

    const me = await api.call('GET', '/v1/me', { token: key });
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual({ id: user.id, email: user.email });
    const used = await api.call('GET', '/v1/api-keys', { token: user.token });
    expect(used.body.data[0].lastUsedAt).not.toBeNull();
  });

  it('refuses a deleted key with 401, and a second delete with 404', async ({ api }) => {
    const user = await api.signUp();
    const created = await api.call('POST', '/v1/api-keys', {
      token: user.token,
      body: { name: 'to delete' },
    });
    const removed = await api.call('DELETE', `/v1/api-keys/${created.body.id}`, {
      token: user.token,
    });
    expect(removed.status).toBe(204);
    expect(removed.bytes.length).toBe(0);
    expectApiError(
      await api.call('GET', '/v1/me', { token: created.body.key }),
      401,
      'unauthorized',
    );
    const listed = await api.call('GET', '/v1/api-keys', { token: user.token });
    expect(listed.body.data).toEqual([]);
    expectApiError(
      await api.call('DELETE', `/v1/api-keys/${created.body.id}`, { token: user.token }),
      404,
      'not_found',
    );
  });

  it("answers 404 to deleting another user's key, which keeps working", async ({ api }) => {
    const owner = await api.signUp();
    const other = await api.signUp();
    const created = await api.call('POST', '/v1/api-keys', {
      token: owner.token,
      body: { name: 'mine' },
    });
    expectApiError(
      await api.call('DELETE', `/v1/api-keys/${created.body.id}`, { token: other.token }),
      404,
      'not_found',
    );
    expect((await api.call('GET', '/v1/me', { token: created.body.key })).status).toBe(200);
    const theirs = await api.call('GET', '/v1/api-keys', { token: other.token });
    expect(theirs.body.data).toEqual([]);
  });
});

describe('session tokens', () => {
  it('refuses forged, expired, unsigned and orphaned tokens with 401', async ({ api }) => {
    const user = await api.signUp();
    const otherSecret = 'another-secret-of-at-least-thirty-two-bytes';
    const past = Math.floor(Date.now() / 1000) - 60;
    const [header, payload] = user.token.split('.');
    const tokens = {
      forged: await forge({ sub: user.id, exp: inAnHour() }, otherSecret),
      expired: await forge({ sub: user.id, exp: past }),
      unsigned: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
      tampered: `${header}.${Buffer.from(JSON.stringify({ sub: 'usr_someoneelse000', iss: 'overture', exp: inAnHour() })).toString('base64url')}.${user.token.split('.')[2]}`,
      orphaned: await forge({ sub: 'usr_01M8000000000000000000000', exp: inAnHour() }),
      garbage: 'not-a-token',
      'unknown api key': `ovt_${'x'.repeat(43)}`,
    };
    // The control: a token made the same way with the right secret is accepted.
    const valid = await forge({ sub: user.id, exp: inAnHour() });
    expect((await api.call('GET', '/v1/me', { token: valid })).status).toBe(200);
    for (const [what, token] of Object.entries(tokens)) {
      const res = await api.call('GET', '/v1/me', { token });
      expect(res.status, what).toBe(401);
      expectApiError(res, 401, 'unauthorized');
    }
    for (const authorization of [
      '',
      'Bearer',
      `Basic ${user.token}`,
      `Bearer  ${'a'.repeat(3000)}`,
    ]) {
      const res = await api.call('GET', '/v1/me', { headers: { authorization } });
      expect(res.status, authorization.slice(0, 20)).toBe(401);
    }
  });
});

// Each of these starts its own processes; they run side by side.
describe.concurrent('the JWT secret', () => {
  it('refuses to start with a JWT_SECRET shorter than 32 bytes, naming it', async ({
    expect,
    origins,
  }) => {
    const dataDir = origins.dataDir();
    const child = spawn(process.execPath, [join(repoRoot, 'origin/main.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        EDGE_SIGNATURE_CHECK: 'off',
        DATA_DIR: dataDir,
        MODEL_DIR: testModelDir,
        PORT: '0',
        JWT_SECRET: 'too-short',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    child.stdout.on('data', (d: Buffer) => {
      printed += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      printed += d.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBeNull();
    expect(code).not.toBe(0);
    expect(printed).toMatch(/JWT_SECRET.*32 bytes/);
    expect(printed).not.toContain('listening');
  });

  it('is generated in DATA_DIR when unset, so sessions survive a restart', async ({
    expect,
    origins,
  }) => {
    const first = await origins.start();
    expect(existsSync(join(first.dataDir, 'jwt-secret'))).toBe(true);
    const user = await apiClient(first.url).signUp();
    expect(await first.kill()).toBe(0);

    const second = await origins.start({ dataDir: first.dataDir });
    const me = await apiClient(second.url).call('GET', '/v1/me', { token: user.token });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
  });
});
