/**
 * `chained` (origin/store/postgres/prepared.ts): several built writes as one statement, the
 * earlier ones as CTEs, their parameters numbered on from one another's.
 */
import { describe, expect, it } from 'vitest';
import { chained } from '../../../origin/store/postgres/prepared.ts';

const built = (sql: string, params: unknown[]) => ({ toSQL: () => ({ sql, params }) });

describe('chained writes', () => {
  it('puts the earlier writes in CTEs and numbers the parameters on', () => {
    const statement = chained(
      'two_writes',
      built('update "jobs" set "seq" = $1 where "jobs"."id" = $2', ['seq', 'id']),
      built('insert into "job_events" ("job_id", "seq") values ($1, $2)', ['id', 'seq']),
    );
    expect(statement).toEqual({
      name: 'two_writes',
      text: 'with w0 as (update "jobs" set "seq" = $1 where "jobs"."id" = $2) insert into "job_events" ("job_id", "seq") values ($3, $4)',
      params: ['seq', 'id', 'id', 'seq'],
    });
  });

  it('renumbers parameters of ten and more, and leaves one write as it is', () => {
    const many = Array.from({ length: 11 }, (_, i) => `$${i + 1}`).join(', ');
    const statement = chained(
      'three',
      built(
        `select ${many}`,
        Array.from({ length: 11 }, (_, i) => i),
      ),
      built('delete from t where a = $1', ['a']),
      built('insert into t values ($1, $2)', ['b', 'c']),
    );
    expect(statement.text).toBe(
      `with w0 as (select ${many}), w1 as (delete from t where a = $12) insert into t values ($13, $14)`,
    );
    expect(statement.params).toHaveLength(14);
    expect(chained('one', built('select $1', [1])).text).toBe('select $1');
  });
});
