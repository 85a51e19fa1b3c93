import { byId } from '../dom.ts';
import { clearErrors, showError } from '../notify.ts';
import { api, session } from '../session.ts';

/** The sign-in / create-account form; calls `onSignedIn` once a token is kept. */
export function setUpAuth(onSignedIn: () => void): void {
  const form = byId<HTMLFormElement>('auth-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const intent = ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? 'login';
    const data = new FormData(form);
    const email = String(data.get('email') ?? '');
    const password = String(data.get('password') ?? '');
    const buttons = form.querySelectorAll('button');
    for (const b of buttons) b.disabled = true;
    try {
      const answer =
        intent === 'register'
          ? await api.register(email, password)
          : await api.login(email, password);
      session.set(answer.token);
      clearErrors();
      form.reset();
      onSignedIn();
    } catch (error) {
      showError(
        error,
        intent === 'register' ? 'Could not create the account' : 'Could not sign in',
      );
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  });
}
