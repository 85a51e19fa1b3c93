import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { edgeOutputs } from '../../../origin/outputs/edge-outputs.ts';
import { verifyOriginRequest } from '../../../shared/origin-signature.ts';

const secret = 'edge-outputs-unit-secret-0123456789abcdef';

interface Hit {
  method: string;
  path: string;
  body: Buffer;
  verified: boolean;
  sha256: string | undefined;
  contentType: string | undefined;
}

/** A stand-in for the edge's internal route: answers `statuses` in turn, records each call. */
async function fakeEdge(statuses: number[]) {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const check = await verifyOriginRequest(
        secret,
        { method: req.method ?? '', path: req.url ?? '', header },
        { maxAgeSeconds: 60 },
      );
      hits.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body: Buffer.concat(chunks),
        verified: check.ok,
        sha256: header('x-content-sha256'),
        contentType: header('content-type'),
      });
      res.statusCode = statuses[Math.min(hits.length - 1, statuses.length - 1)] ?? 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

const bytes = new TextEncoder().encode('the bytes of an output');

describe('edgeOutputs: the origin side of outputs in the edge bucket', () => {
  it('PUTs the bytes, signed with their SHA-256, and answers the key once the edge says 201', async () => {
    const edge = await fakeEdge([201]);
    const outputs = edgeOutputs({ edgeUrl: `${edge.url}/`, secret, writeDeadlineMs: 1_000 });
    expect(await outputs.write('job_1', 'wav', bytes, 'audio/wav')).toBe('job_1.wav');
    expect(edge.hits).toMatchObject([
      {
        method: 'PUT',
        path: '/internal/outputs/job_1.wav',
        verified: true,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        contentType: 'audio/wav',
      },
    ]);
    expect(edge.hits[0]?.body.equals(Buffer.from(bytes))).toBe(true);
    expect(await outputs.locate('job_1.wav')).toEqual({ at: 'edge', key: 'job_1.wav' });
  });

  it('retries an edge that fails or is unreachable until it takes the output', async () => {
    const edge = await fakeEdge([503, 502, 201]);
    const outputs = edgeOutputs({ edgeUrl: edge.url, secret, writeDeadlineMs: 5_000 });
    await outputs.write('job_2', 'wav', bytes, 'audio/wav');
    expect(edge.hits.map((h) => h.verified)).toEqual([true, true, true]);
  });

  it('gives up after the deadline, so the job fails rather than succeeding without output', async () => {
    const edge = await fakeEdge([503]);
    const outputs = edgeOutputs({ edgeUrl: edge.url, secret, writeDeadlineMs: 300 });
    await expect(outputs.write('job_3', 'wav', bytes, 'audio/wav')).rejects.toThrow(
      /did not take output job_3.wav: answered 503/,
    );
    expect(edge.hits.length).toBeGreaterThan(1);
  });

  it('does not retry an output the edge refused (4xx)', async () => {
    const edge = await fakeEdge([413]);
    const outputs = edgeOutputs({ edgeUrl: edge.url, secret, writeDeadlineMs: 5_000 });
    await expect(outputs.write('job_4', 'wav', bytes, 'audio/wav')).rejects.toThrow(/refused/);
    expect(edge.hits).toHaveLength(1);
  });

  it('deletes through the same signed route', async () => {
    const edge = await fakeEdge([204]);
    const outputs = edgeOutputs({ edgeUrl: edge.url, secret, writeDeadlineMs: 1_000 });
    await outputs.remove('job_5.wav');
    expect(edge.hits).toMatchObject([
      { method: 'DELETE', path: '/internal/outputs/job_5.wav', verified: true },
    ]);
  });
});
