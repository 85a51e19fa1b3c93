/**
 * `npm run admin -- grant <email>`, `revoke <email>`, `list`: who may read every user's
 * stats (`GET /v1/stats?scope=all`). Administration is a flag on an account that an operator
 * sets here, never an e-mail list, which whoever registered a listed address first would
 * have won. It works on the store the origin's environment names (`DATABASE_URL`, else the
 * SQLite file in `DATA_DIR`), beside running origins: a grant or a revoke holds from the
 * account's next request. In the image: `docker exec <container> node scripts/admin.ts grant me@example.com`.
 */
import { existsSync } from 'node:fs';
import { openStore, sqliteFile } from '../origin/build-services.ts';
import { loadStoreEnv } from '../origin/env.ts';
import { createLogger } from '../origin/logger.ts';
import type { UserRecord } from '../origin/store/records.ts';
import type { Store } from '../origin/store/store.ts';
import { credentialsSchema } from '../shared/schemas/auth.ts';

const usage = 'usage: npm run admin -- grant <email> | revoke <email> | list';

/** The account as an operator checks it is the one meant: address, id, when it registered. */
const describe = (user: Pick<UserRecord, 'id' | 'email' | 'createdAt'>) =>
  `${user.email} (${user.id}, registered ${new Date(user.createdAt).toISOString()})`;

/** Runs one command; answers the process's exit code. */
async function run(store: Store, command: string, email: string): Promise<number> {
  if (command === 'list') {
    const admins = await store.accounts.listAdmins();
    if (admins.length === 0) console.log('admin: no administrators');
    for (const admin of admins) console.log(describe(admin));
    return 0;
  }
  const user = await store.accounts.findUserByEmail(email);
  if (!user || !(await store.accounts.setAdmin(email, command === 'grant'))) {
    console.error(`admin: no account has the email ${email} (it must register first)`);
    return 1;
  }
  const now = command === 'grant' ? 'is an administrator' : 'is no longer an administrator';
  console.log(`admin: ${describe(user)} ${now}`);
  return 0;
}

const [command = '', raw, ...extra] = process.argv.slice(2);
// Normalised as registration normalises it, so the address finds its account.
const email = credentialsSchema.shape.email.safeParse(raw ?? '');
const wellFormed =
  extra.length === 0 &&
  (command === 'list' ? raw === undefined : ['grant', 'revoke'].includes(command) && email.success);
if (!wellFormed) {
  console.error(usage);
  process.exit(2);
}
let env: ReturnType<typeof loadStoreEnv>;
try {
  env = loadStoreEnv(process.env);
} catch (error) {
  console.error(`admin: ${(error as Error).message}`);
  process.exit(2);
}
// A wrong DATA_DIR would otherwise make an empty database, and find no one in it.
if (env.DATABASE_URL === undefined && !existsSync(sqliteFile(env))) {
  console.error(`admin: no database at ${sqliteFile(env)} (set DATA_DIR, or DATABASE_URL)`);
  process.exit(1);
}
try {
  const store = await openStore(env, createLogger('warn'));
  try {
    process.exitCode = await run(store, command, email.data ?? '');
  } finally {
    await store.close();
  }
} catch (error) {
  console.error(`admin: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
