import { meAnswerSchema } from '../schemas/auth.ts';
import { json, operation } from './operation.ts';

export const getMe = operation('getMe', {
  summary: 'Who the token is, and the credit balance',
  auth: true,
  responses: { 200: json(meAnswerSchema, 'the account') },
});
