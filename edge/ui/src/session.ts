import { OvertureClient } from '../../../shared/client.ts';

const key = 'overture.token';

/** The signed-in session, kept in localStorage so a reload stays signed in. */
export const session = {
  get token(): string | undefined {
    return localStorage.getItem(key) ?? undefined;
  },
  set(token: string): void {
    localStorage.setItem(key, token);
  },
  clear(): void {
    localStorage.removeItem(key);
  },
};

/** The API on this page's own host, authenticated as the session. */
export const api = new OvertureClient({ token: () => session.token });
