import { meAnswerSchema } from '../schemas/auth.ts';
import { json, operation } from './operation.ts';

export const getMe = operation('getMe', {
  summary: 'Who the token is, the credit balance, and whether an operator made it an administrator',
  auth: true,
  responses: { 200: json(meAnswerSchema, 'the account') },
});
