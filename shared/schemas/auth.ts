import { z } from 'zod';

/** Body of `POST /v1/auth/register` and `POST /v1/auth/login`. */
export const credentialsSchema = z.strictObject({
  email: z
    .string()
    .trim()
    .max(254)
    .pipe(z.email())
    .transform((email) => email.toLowerCase()),
  password: z.string().min(8).max(256),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export interface User {
  id: string;
  email: string;
}

/** Answer of register (201) and login (200). */
export interface SessionAnswer {
  user: User;
  token: string;
}

/** Answer of `GET /v1/me`. */
export interface MeAnswer {
  user: User;
  credits: number;
}

/** Body of `POST /v1/api-keys`. */
export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
});

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Answer of `POST /v1/api-keys`: the only time `key` is shown. */
export interface CreatedApiKey {
  id: string;
  name: string;
  prefix: string;
  key: string;
}
