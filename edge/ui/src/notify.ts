import { ApiClientError } from '../../../shared/client.ts';
import { byId, h } from './dom.ts';

function dismissible(
  container: HTMLElement,
  className: string,
  ...content: (Node | string)[]
): HTMLElement {
  const box = h('div', { class: className }, h('span', {}, ...content));
  const close = h('button', { type: 'button', class: 'secondary', 'aria-label': 'Dismiss' }, '×');
  close.addEventListener('click', () => box.remove());
  box.append(close);
  container.append(box);
  return box;
}

/** What is wrong and where, from the `details` of a 400 (`[{path, message}]`), in words. */
function problemsOf(details: unknown): string {
  if (!Array.isArray(details)) return '';
  const problems = details
    .filter(
      (d): d is { path: string; message: string } =>
        typeof d?.path === 'string' && typeof d?.message === 'string',
    )
    .slice(0, 3)
    .map((d) => `${d.path}: ${d.message}`);
  return problems.length > 0 ? ` ${problems.join('; ')}.` : '';
}

/**
 * Shows an error in words, with its code when the API gave one: never a silent failure.
 *
 * @example
 * try { await api.createJob(body) } catch (e) { showError(e) }
 */
export function showError(error: unknown, context?: string): void {
  const errors = byId('errors');
  const prefix = context ? `${context}: ` : '';
  if (error instanceof ApiClientError) {
    const parts: (Node | string)[] = [
      `${prefix}${error.message}${problemsOf(error.details)} `,
      h('code', {}, `(${error.code})`),
    ];
    if (error.requestId) parts.push(` request ${error.requestId}`);
    const box = dismissible(errors, 'error-box', ...parts);
    box.dataset.code = error.code;
  } else {
    dismissible(
      errors,
      'error-box',
      `${prefix}${error instanceof Error ? error.message : String(error)}`,
    );
  }
  while (errors.children.length > 3) errors.firstElementChild?.remove();
}

/** Removes the errors shown, or only those with one of these codes. */
export function clearErrors(codes?: readonly string[]): void {
  const errors = byId('errors');
  if (!codes) {
    errors.replaceChildren();
    return;
  }
  for (const box of [...errors.children]) {
    if (box instanceof HTMLElement && codes.includes(box.dataset.code ?? '')) box.remove();
  }
}

/** The codes of a server that could not be reached: stale once the page is back online. */
export const unreachableCodes = ['network', 'bad_gateway', 'gateway_timeout', 'not_ready'];

/** A passing message (a purchase confirmed, a key copied); it goes away by itself. */
export function showNotice(text: string, ms = 6_000): HTMLElement {
  const box = dismissible(byId('notices'), 'notice-box', text);
  if (ms > 0) setTimeout(() => box.remove(), ms);
  return box;
}
