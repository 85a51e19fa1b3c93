import { credentialsSchema, passwordChangeSchema, sessionAnswerSchema } from '../schemas/auth.ts';
import { json, jsonBody, operation } from './operation.ts';

export const register = operation('register', {
  summary: 'Create an account',
  auth: false,
  request: { body: jsonBody(credentialsSchema) },
  responses: { 201: json(sessionAnswerSchema, 'the account and a session token') },
  errors: ['conflict'],
});

export const login = operation('login', {
  summary: 'Sign in',
  auth: false,
  request: { body: jsonBody(credentialsSchema) },
  responses: { 200: json(sessionAnswerSchema, 'the account and a session token') },
  errors: ['unauthorized'],
});

export const logout = operation('logout', {
  summary: 'Sign out: the session of this token ends, on every origin',
  auth: true,
  responses: { 204: { description: 'the token is refused from now on' } },
  errors: ['forbidden'],
});

export const changePassword = operation('changePassword', {
  summary: 'Change the password: every session of the user ends (API keys stay)',
  auth: true,
  request: { body: jsonBody(passwordChangeSchema) },
  responses: { 204: { description: 'changed; sign in again with the new password' } },
  errors: ['forbidden', 'conflict'],
});
