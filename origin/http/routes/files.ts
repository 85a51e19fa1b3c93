import * as api from '../../../shared/api/files.ts';
import { deleteFile, findFile, toFileInfo, uploadFile } from '../../files/files.ts';
import type { App } from '../context.ts';
import { enforce } from '../enforce.ts';

/** How many files a listing answers at most. */
const listLimit = 100;

/** `POST /v1/files` (raw bytes), `GET /v1/files`, `GET /v1/files/:id`, `DELETE /v1/files/:id`. */
export function registerFiles(app: App): void {
  app.openapi(enforce(api.uploadFile), async (c) => {
    const { name } = c.req.valid('query');
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const file = await uploadFile(
      c.get('services'),
      c.get('principal').userId,
      c.req.header('content-type') ?? '',
      bytes,
      name,
    );
    return c.json(file, 201);
  });
  app.openapi(enforce(api.listFiles), async (c) => {
    const { store } = c.get('services');
    const files = await store.files.list(c.get('principal').userId, Date.now(), listLimit);
    return c.json({ data: files.map(toFileInfo) }, 200);
  });
  app.openapi(enforce(api.getFile), async (c) => {
    const { id } = c.req.valid('param');
    const file = await findFile(c.get('services'), c.get('principal').userId, id);
    return c.json(toFileInfo(file), 200);
  });
  app.openapi(enforce(api.deleteFile), async (c) => {
    const { id } = c.req.valid('param');
    await deleteFile(c.get('services'), c.get('principal').userId, id);
    return c.body(null, 204);
  });
}
