import { z } from 'zod';
import { timestampSchema } from './timestamp.ts';

const passwordSchema = z.string().min(8).max(256);

/** Body of `POST /v1/auth/register` and `POST /v1/auth/login`. */
export const credentialsSchema = z
  .strictObject({
    email: z
      .string()
      .trim()
      .max(254)
      .pipe(z.email())
      .transform((email) => email.toLowerCase()),
    password: passwordSchema,
  })
  .meta({ id: 'Credentials' });
export type Credentials = z.infer<typeof credentialsSchema>;

export const userSchema = z.object({ id: z.string(), email: z.string() }).meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;

/** Body of `POST /v1/auth/password`. */
export const passwordChangeSchema = z
  .strictObject({
    currentPassword: z.string().min(1).max(256),
    newPassword: passwordSchema,
  })
  .meta({ id: 'PasswordChange' });
export type PasswordChange = z.infer<typeof passwordChangeSchema>;

/** Answer of register (201) and login (200). */
export const sessionAnswerSchema = z
  .object({
    user: userSchema,
    token: z.string().describe('a session JWT, sent as `Authorization: Bearer`'),
  })
  .meta({ id: 'SessionAnswer' });
export type SessionAnswer = z.infer<typeof sessionAnswerSchema>;

/** Answer of `GET /v1/me`. */
export const meAnswerSchema = z
  .object({
    user: userSchema,
    credits: z.number().int(),
    admin: z
      .boolean()
      .describe('an operator made the account an administrator (`GET /v1/stats?scope=all`)'),
  })
  .meta({ id: 'MeAnswer' });
export type MeAnswer = z.infer<typeof meAnswerSchema>;

/** Body of `POST /v1/api-keys`. */
export const createApiKeySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
  })
  .meta({ id: 'CreateApiKeyBody' });

export const apiKeyInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe('the visible start of the key, to tell keys apart'),
    createdAt: timestampSchema,
    lastUsedAt: timestampSchema.nullable(),
  })
  .meta({ id: 'ApiKeyInfo' });
export type ApiKeyInfo = z.infer<typeof apiKeyInfoSchema>;

/** Answer of `GET /v1/api-keys`. */
export const apiKeyListSchema = z
  .object({ data: z.array(apiKeyInfoSchema) })
  .meta({ id: 'ApiKeyList' });

/** Answer of `POST /v1/api-keys`: the only time `key` is shown. */
export const createdApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    key: z.string().regex(/^ovt_/).describe('shown once, stored hashed'),
  })
  .meta({ id: 'CreatedApiKey' });
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
