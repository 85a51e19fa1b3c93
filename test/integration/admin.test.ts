/**
 * Administrators (`GET /v1/stats?scope=all`) are a flag an operator grants with
 * `scripts/admin.ts`, on a real origin: an address that `ADMIN_EMAILS` used to list gains
 * nothing by registering; a grant holds from the account's next request, and so does a
 * revoke; the command works on DATA_DIR's SQLite beside the running origin, and on
 * `DATABASE_URL`.
 */
import { describe, expect } from 'vitest';
import { openPostgresStore } from '../../origin/store/postgres/index.ts';
import { startPostgres } from '../../scripts/lib/postgres-server.ts';
import { runAdmin } from '../helpers/admin-command.ts';
import { type Api, uniqueEmail } from '../helpers/api.ts';
import { expectApiError } from '../helpers/expectations.ts';
import { it } from '../helpers/fixtures.ts';
import { makeDataDir, removeDataDir } from '../helpers/origin-process.ts';
import { fixtureModels } from '../helpers/paths.ts';
import { makeUser } from '../unit/support.ts';

const listed = uniqueEmail();
it.override({
  originOptions: {
    // What an operator's environment still says after the upgrade: it must count for nothing.
    env: { ADMIN_EMAILS: `ops@example.test, ${listed}`, MODEL_DIR: fixtureModels },
  },
});

/** The status of `GET /v1/stats?scope=all` for this token. */
const allStats = async (api: Api, token: string) =>
  (await api.call('GET', '/v1/stats?scope=all&window=1h', { token })).status;

describe('administrators are granted by an operator, not by registering', () => {
  it('gives no administration to whoever registers an address ADMIN_EMAILS listed', async ({
    api,
  }) => {
    const squatter = await api.signUp(listed);
    expectApiError(
      await api.call('GET', '/v1/stats?scope=all', { token: squatter.token }),
      403,
      'forbidden',
    );
    const ops = await api.signUp('ops@example.test');
    expect(await allStats(api, ops.token)).toBe(403);
  });

  it('makes an account an administrator on its next request after a grant; a revoke takes it back', async ({
    api,
    origin,
  }) => {
    const store = { DATA_DIR: origin.dataDir };
    const user = await api.signUp();
    expect(await allStats(api, user.token)).toBe(403);

    const granted = await runAdmin(['grant', ` ${user.email.toUpperCase()} `], store);
    expect(granted, granted.stderr).toMatchObject({ code: 0 });
    expect(granted.stdout).toContain(`admin: ${user.email} (${user.id}, registered `);
    expect(granted.stdout).toContain('is an administrator');
    // The same session token, no new login: the flag is read on every request.
    expect(await allStats(api, user.token)).toBe(200);
    const listing = await runAdmin(['list'], store);
    expect(listing.code).toBe(0);
    expect(listing.stdout.trim().split('\n')).toEqual([
      expect.stringContaining(`${user.email} (${user.id}`),
    ]);

    const revoked = await runAdmin(['revoke', user.email], store);
    expect(revoked, revoked.stderr).toMatchObject({ code: 0 });
    expect(revoked.stdout).toContain('is no longer an administrator');
    expect(await allStats(api, user.token)).toBe(403);
    expect((await runAdmin(['list'], store)).stdout).toBe('admin: no administrators\n');
  });

  it('refuses an email no account has (1), a bad command or address (2), a DATA_DIR without a database (1)', async ({
    origin,
  }) => {
    const store = { DATA_DIR: origin.dataDir };
    const unknown = await runAdmin(['grant', uniqueEmail()], store);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account has the email');
    for (const args of [
      ['grant', 'not-an-email'],
      ['promote', listed],
      ['list', 'x'],
    ]) {
      const bad = await runAdmin(args, store);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toContain('usage: npm run admin -- grant <email> | revoke <email> | list');
    }
    const empty = makeDataDir();
    try {
      const nowhere = await runAdmin(['list'], { DATA_DIR: empty });
      expect(nowhere.code).toBe(1);
      expect(nowhere.stderr).toContain('no database at');
    } finally {
      removeDataDir(empty);
    }
    expect((await runAdmin(['list'], store)).stdout).toBe('admin: no administrators\n');
  });

  it('grants and revokes on a cluster’s PostgreSQL (DATABASE_URL)', async () => {
    const server = await startPostgres();
    try {
      const url = await server.createDatabase('admin_command');
      const store = await openPostgresStore(url, { poolSize: 1 });
      try {
        const user = await makeUser(store);
        const granted = await runAdmin(['grant', user.email], { DATABASE_URL: url });
        expect(granted, granted.stderr).toMatchObject({ code: 0 });
        expect((await store.accounts.findUserById(user.id))?.isAdmin).toBe(true);
        expect((await runAdmin(['list'], { DATABASE_URL: url })).stdout).toContain(user.id);
        expect((await runAdmin(['revoke', user.email], { DATABASE_URL: url })).code).toBe(0);
        expect((await store.accounts.findUserById(user.id))?.isAdmin).toBe(false);
      } finally {
        await store.close();
      }
    } finally {
      await server.stop();
    }
  });
});
