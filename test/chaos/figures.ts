import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * Records figures for the table (and the README). Call it once per case kind, after the
 * assertions, with the real counts the test measured.
 *
 * @example
 * recordFigures('crash', [{ suite: 'crash', case: 'jobs terminal after 5 SIGKILLs', tried: 60, held: 60, lost: 0 }]);
 */
export function recordFigures(file: string, figures: Figure[]): void {
  mkdirSync(figuresDir, { recursive: true });
  writeFileSync(join(figuresDir, `${file}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}
