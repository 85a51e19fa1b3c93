import { env } from 'cloudflare:test';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describe, expect, it, vi } from 'vitest';
import { createEdgeApp } from '../../edge/app.ts';
import type { Bindings } from '../../edge/config.ts';
import { httpExceptionCases } from '../fixtures/http-exceptions.ts';
import { edgeBase, expectError } from './support.ts';

describe("the edge's error handler", () => {
  const app = createEdgeApp();
  app.get('/test/http-exception/:status', (c) => {
    throw new HTTPException(Number(c.req.param('status')) as ContentfulStatusCode, {
      message: 'thrown by Hono',
    });
  });

  // The origin's test (test/unit/http/errors.test.ts) runs the same cases: both map alike.
  it.each(httpExceptionCases)(
    "answers Hono's HTTPException %i as %s (%i)",
    async (status, code, answered) => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const res = await app.fetch(
          new Request(`${edgeBase}/test/http-exception/${status}`),
          env as Bindings,
        );
        const { error } = await expectError(res, answered, code);
        expect(error.message).toBe('thrown by Hono');
        // A 5xx from Hono is a bug of ours: logged, as anything unexpected is.
        expect(logged).toHaveBeenCalledTimes(status >= 500 ? 1 : 0);
      } finally {
        logged.mockRestore();
      }
    },
  );
});
