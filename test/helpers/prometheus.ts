import { readAnswer } from './http.ts';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  status: number;
  contentType: string;
  text: string;
  samples: Sample[];
  /**
   * The sum of the samples named `name` whose labels include `labels`; 0 when there is none
   * (a labelled counter appears only once it was first incremented).
   */
  value(name: string, labels?: Record<string, string>): number;
}

const sampleLine = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const labelPair = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (0.0.4) into samples. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(labelPair)) {
      if (key !== undefined) labels[key] = (value ?? '').replace(/\\(.)/g, '$1');
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * Scrapes an origin's metrics endpoint.
 *
 * @example
 * const before = await scrape(origin.metricsUrl);
 * expect(after.value('overture_jobs_created_total') - before.value('overture_jobs_created_total')).toBe(1);
 */
export async function scrape(url: string): Promise<Scrape> {
  const { status, headers, text } = await readAnswer(await fetch(url));
  const samples = status === 200 ? parsePrometheus(text) : [];
  return {
    status,
    contentType: headers.get('content-type') ?? '',
    text,
    samples,
    value: (name, labels = {}) =>
      samples
        .filter(
          (s) => s.name === name && Object.entries(labels).every(([key, v]) => s.labels[key] === v),
        )
        .reduce((sum, s) => sum + s.value, 0),
  };
}
