import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../origin/store/sqlite/database.ts';
import { jobSamplesQuery } from '../../../origin/store/sqlite/stats.ts';

const dir = mkdtempSync(join(tmpdir(), 'overture-stats-'));
const db = openDatabase(join(dir, 'stats.sqlite'));
afterAll(() => {
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** SQLite's plan for a stats window: what it searches and scans. */
function plan(userId?: string): string {
  const { sql, params } = jobSamplesQuery(db, { from: 1, to: 2, userId }).toSQL();
  const rows = db.$client.prepare(`explain query plan ${sql}`).all(...params) as {
    detail: string;
  }[];
  return rows.map((r) => r.detail).join('; ');
}

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
