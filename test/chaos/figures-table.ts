import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Figure, figuresDir } from './figures.ts';

/** Global setup of the chaos project: clears old figures, and prints the table at the end. */
export default function figuresTable(): () => void {
  rmSync(figuresDir, { recursive: true, force: true });
  return () => {
    if (!existsSync(figuresDir)) return;
    const rows = readdirSync(figuresDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .flatMap((f) => JSON.parse(readFileSync(join(figuresDir, f), 'utf8')) as Figure[]);
    const width = Math.max(20, ...rows.map((r) => r.case.length));
    const line = (a: string, b: string, c: string, d: string, e: string) =>
      `${a.padEnd(12)} ${b.padEnd(width)} ${c.padStart(7)} ${d.padStart(7)} ${e.padStart(6)}`;
    const out = [
      '',
      'Reliability figures (test:chaos)',
      line('suite', 'case', 'tried', 'held', 'lost'),
    ];
    for (const r of rows) {
      out.push(
        `${line(r.suite, r.case, String(r.tried), String(r.held), String(r.lost))}${r.note ? `  ${r.note}` : ''}`,
      );
    }
    const tried = rows.reduce((n, r) => n + r.tried, 0);
    const lost = rows.reduce((n, r) => n + r.lost, 0);
    out.push(line('total', '', String(tried), String(tried - lost), String(lost)), '');
    process.stdout.write(`${out.join('\n')}\n`);
  };
}
