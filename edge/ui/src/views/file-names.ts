import { api } from '../session.ts';

/** Names of uploaded files by id: remembered when this page uploads one, else asked for once. */
const names = new Map<string, Promise<string | undefined>>();

export function rememberFileName(id: string, name: string): void {
  names.set(id, Promise.resolve(name));
}

/**
 * The name a file was uploaded under (`GET /v1/files/:id`), or undefined when it is gone.
 *
 * @example
 * const name = await fileName(job.input.reference);
 */
export function fileName(id: string): Promise<string | undefined> {
  let name = names.get(id);
  if (!name) {
    name = api.file(id).then(
      (file) => file.name ?? file.id,
      () => undefined,
    );
    names.set(id, name);
  }
  return name;
}
