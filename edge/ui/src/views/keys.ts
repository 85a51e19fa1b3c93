import { byId, copyText, h } from '../dom.ts';
import { showError, showNotice } from '../notify.ts';
import { api } from '../session.ts';

const curlExample = (key: string) =>
  [
    `curl -s ${location.origin}/v1/jobs \\`,
    `  -H "authorization: Bearer ${key}" \\`,
    `  -H 'content-type: application/json' \\`,
    `  -d '{"model":"tone-diffusion","input":{"prompt":"slow rain on a tin roof","duration":8}}'`,
  ].join('\n');

/** API keys: create (shown and copyable once), list, revoke; and a ready curl example. */
export function setUpKeys(): { load(): Promise<void> } {
  const form = byId<HTMLFormElement>('key-form');
  const list = byId('key-list');
  const fresh = byId('new-key');
  const freshValue = byId('new-key-value');
  const curl = byId('curl-example');
  curl.textContent = curlExample('<your API key>');

  byId('copy-key').addEventListener('click', async () => {
    showNotice(
      (await copyText(freshValue.textContent ?? ''))
        ? 'Key copied.'
        : 'Select the key and copy it.',
    );
  });
  byId('copy-curl').addEventListener('click', async () => {
    showNotice(
      (await copyText(curl.textContent ?? ''))
        ? 'Example copied.'
        : 'Select the example and copy it.',
    );
  });

  const load = async () => {
    try {
      const keys = (await api.apiKeys()).data;
      list.replaceChildren(
        ...keys.map((key) => {
          const revoke = h(
            'button',
            { type: 'button', class: 'secondary', 'aria-label': `Revoke ${key.name}` },
            'Revoke',
          );
          revoke.addEventListener('click', async () => {
            try {
              await api.revokeApiKey(key.id);
              await load();
            } catch (error) {
              showError(error, 'Could not revoke the key');
            }
          });
          const used = key.lastUsedAt
            ? `last used ${new Date(key.lastUsedAt).toLocaleString()}`
            : 'never used';
          return h(
            'li',
            {},
            h('span', {}, h('strong', {}, key.name), ` ${key.prefix}… · ${used}`),
            revoke,
          );
        }),
      );
    } catch (error) {
      showError(error, 'Could not load your API keys');
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = String(new FormData(form).get('name') ?? '');
    try {
      const created = await api.createApiKey(name);
      freshValue.textContent = created.key;
      fresh.hidden = false;
      curl.textContent = curlExample(created.key);
      form.reset();
      await load();
    } catch (error) {
      showError(error, 'Could not create the key');
    }
  });

  return { load };
}
