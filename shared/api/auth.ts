import { credentialsSchema, sessionAnswerSchema } from '../schemas/auth.ts';
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
