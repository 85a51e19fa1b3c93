import { byId } from '../dom.ts';
import { showError, showNotice } from '../notify.ts';
import { api, session } from '../session.ts';

export interface PasswordHooks {
  /** The signed-in account's email, to sign in again with the new password. */
  email(): string | undefined;
  /** Called before the change ends this page's session, and after it (or its refusal). */
  pause(): void;
  resume(): void;
  /** The change went through but signing in again did not. */
  signedOut(): void;
}

/** The password form: a change ends every session, this page's too, so it signs in again. */
export function setUpPassword(hooks: PasswordHooks): void {
  const form = byId<HTMLFormElement>('password-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const current = String(data.get('current') ?? '');
    const next = String(data.get('new') ?? '');
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    // The server closes this session's socket as signed out: it is not to be mistaken for one.
    hooks.pause();
    try {
      try {
        await api.changePassword(current, next);
      } catch (error) {
        hooks.resume();
        showError(error, 'Could not change the password');
        return;
      }
      try {
        session.set((await api.login(hooks.email() ?? '', next)).token);
      } catch (error) {
        hooks.signedOut();
        showError(error, 'The password was changed; sign in again');
        return;
      }
      form.reset();
      hooks.resume();
      showNotice('Password changed: every other session was signed out.');
    } finally {
      if (button) button.disabled = false;
    }
  });
}
