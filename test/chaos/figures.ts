import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot } from '../helpers/paths.ts';

/** Where each chaos suite leaves its figures; the table is printed after the run. */
export const figuresDir = join(repoRoot, 'test-results', 'chaos');

/** One line of the reliability table: a kind of case, how many were tried, held, lost. */
export interface Figure {
  suite: string;
  case: string;
  tried: number;
  /** Cases where the promise held (job terminal, credit right, request refused…). */
  held: number;
  /** Cases where it did not: anything here is a bug to fix in the code. */
  lost: number;
  note?: string;
}

/**
 * Records a suite's figures for the table (and the README), as `<file>.json`: once per file,
 * after the assertions, with every kind's real counts (a second call replaces the first).
 *
 * @example
 * recordFigures('crash', [figure('crash', 'jobs terminal after 5 SIGKILLs', 60, 60)]);
 */
export function recordFigures(file: string, figures: Figure[]): void {
  mkdirSync(figuresDir, { recursive: true });
  writeFileSync(join(figuresDir, `${file}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}

/** A figure from its counts: what did not hold is lost. */
export function figure(
  suite: string,
  kind: string,
  tried: number,
  held: number,
  note?: string,
): Figure {
  return { suite, case: kind, tried, held, lost: tried - held, ...(note ? { note } : {}) };
}

/**
 * A suite's figures, one per case kind, counted case by case (`count`) or added as measured
 * (`add`); `expectNoneLost` is the check that closes the file.
 *
 * @example
 * const figures = new Figures('trust');
 * figures.count('forged signature → 401', res.status === 401);
 * figures.expectNoneLost('trust', { atLeast: 10 });
 */
export class Figures {
  readonly suite: string;
  readonly #byKind = new Map<string, Figure>();

  constructor(suite: string) {
    this.suite = suite;
  }

  /** `tried` more cases of `kind`, `held` of them; a note given replaces the kind's. */
  add(kind: string, tried: number, held: number, note?: string): void {
    const f = this.#byKind.get(kind) ?? figure(this.suite, kind, 0, 0);
    f.tried += tried;
    f.held += held;
    f.lost += tried - held;
    if (note) f.note = note;
    this.#byKind.set(kind, f);
  }

  /** One more case of `kind`, held or lost. */
  count(kind: string, held: boolean, note?: string): void {
    this.add(kind, 1, held ? 1 : 0, note);
  }

  /** The figure of `kind`, to amend its note once the kind is done. */
  get(kind: string): Figure | undefined {
    return this.#byKind.get(kind);
  }

  get rows(): Figure[] {
    return [...this.#byKind.values()];
  }

  /**
   * Asserts that `kinds` figures were counted (exactly, or at least) and that none lost a
   * case, then records them as `file`.
   */
  expectNoneLost(file: string, kinds: number | { atLeast: number }): void {
    const rows = this.rows;
    if (typeof kinds === 'number') expect(rows.length).toBe(kinds);
    else expect(rows.length).toBeGreaterThanOrEqual(kinds.atLeast);
    expect(rows.filter((r) => r.lost > 0)).toEqual([]);
    recordFigures(file, rows);
  }
}
