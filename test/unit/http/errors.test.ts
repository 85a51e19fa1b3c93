import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../../origin/http/context.ts';
import type { ErrorBody } from '../../../shared/errors.ts';
import { httpExceptionCases } from '../../fixtures/http-exceptions.ts';
import { call, inProcessApp } from './in-process-app.ts';

describe("the origin's error handler", () => {
  let app: App;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'overture-errors-'));
    const built = inProcessApp(dir);
    app = built.app;
    app.get('/test/http-exception/:status', (c) => {
      throw new HTTPException(Number(c.req.param('status')) as ContentfulStatusCode, {
        message: 'thrown by Hono',
      });
    });
    return async () => {
      await built.close();
      rmSync(dir, { recursive: true, force: true });
    };
  });

  // The edge's test (test/edge/errors.test.ts) runs the same cases: both map alike.
  it.each(httpExceptionCases)(
    "answers Hono's HTTPException %i as %s (%i)",
    async (status, code, answered) => {
      const res = await call<ErrorBody>(app, 'GET', `/test/http-exception/${status}`);
      expect(res.status).toBe(answered);
      expect(res.body.error).toMatchObject({ code, message: 'thrown by Hono' });
    },
  );
});
