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
      `${prefix}${error.message} `,
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

export function clearErrors(): void {
  byId('errors').replaceChildren();
}

/** A passing message (a purchase confirmed, a key copied); it goes away by itself. */
export function showNotice(text: string, ms = 6_000): HTMLElement {
  const box = dismissible(byId('notices'), 'notice-box', text);
  if (ms > 0) setTimeout(() => box.remove(), ms);
  return box;
}
