import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../origin/store/sqlite/database.ts';
import {
  jobSamplesQuery,
  ledgerSamplesQuery,
  loadQuery,
} from '../../../origin/store/sqlite/stats.ts';
import { dueInTurns } from '../../../origin/store/sqlite/webhooks.ts';

const dir = mkdtempSync(join(tmpdir(), 'overture-stats-'));
const db = openDatabase(join(dir, 'stats.sqlite'));
afterAll(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** SQLite's plan for a query: what it searches and scans. */
function planOf(query: { toSQL(): { sql: string; params: unknown[] } }): string {
  const { sql, params } = query.toSQL();
  const rows = db.$client.prepare(`explain query plan ${sql}`).all(...params) as {
    detail: string;
  }[];
  return rows.map((r) => r.detail).join('; ');
}

/** SQLite's plan for a stats window of jobs. */
const plan = (userId?: string) => planOf(jobSamplesQuery(db, { from: 1, to: 2, userId }));

describe('a stats window', () => {
  it("reads one user's window through the (user_id, created_at) index", () => {
    expect(plan('usr_1')).toMatch(
      /SEARCH jobs USING INDEX jobs_user_created \(user_id=\? AND created_at>\? AND created_at<\?\)/,
    );
  });

  it("reads every user's window through the created_at index, not a scan of the table", () => {
    const detail = plan();
    expect(detail).toMatch(
      /SEARCH jobs USING INDEX jobs_created \(created_at>\? AND created_at<\?\)/,
    );
    expect(detail).not.toMatch(/SCAN jobs/);
  });
});

describe('a window of ledger rows (stats credits, a user’s usage)', () => {
  it("reads one user's rows through the (user_id, created_at) index", () => {
    expect(planOf(ledgerSamplesQuery(db, { from: 1, to: 2, userId: 'usr_1' }))).toMatch(
      /SEARCH credit_ledger USING INDEX credit_ledger_user_created \(user_id=\? AND created_at>\? AND created_at<\?\)/,
    );
  });

  it("reads every user's rows through the created_at index, not a scan of the ledger", () => {
    const detail = planOf(ledgerSamplesQuery(db, { from: 1, to: 2 }));
    expect(detail).toMatch(
      /SEARCH credit_ledger USING INDEX credit_ledger_created \(created_at>\? AND created_at<\?\)/,
    );
    expect(detail).not.toMatch(/SCAN credit_ledger/);
  });
});

describe('the load now (stats scope=all)', () => {
  it('counts queued and running jobs through an index on status, not a scan of every job', () => {
    const detail = planOf(loadQuery(db));
    // (status, id) or (status, lease_until): either reads only the two statuses' rows.
    expect(detail).toMatch(/SEARCH jobs USING INDEX jobs_status_(id|lease) \(status=\?\)/);
    expect(detail).not.toMatch(/SCAN jobs(?! USING)/);
  });
});

describe('a webhook claim', () => {
  it('reads due deliveries and the users’ claims under way through the (status, next_attempt_at) index', () => {
    const rows = db.$client
      .prepare(`explain query plan ${dueInTurns}`)
      .all({ now: 1, perUser: 2, limit: 3 }) as { detail: string }[];
    const detail = rows.map((r) => r.detail).join('; ');
    expect(detail).toContain(
      'SEARCH webhook_deliveries USING INDEX webhook_deliveries_due (status=? AND next_attempt_at<?)',
    );
    expect(detail).toContain(
      'SEARCH webhook_deliveries USING INDEX webhook_deliveries_due (status=? AND next_attempt_at>?)',
    );
    expect(detail).not.toMatch(/SCAN webhook_deliveries/);
  });
});
