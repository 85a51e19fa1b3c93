import { healthSchema } from '../schemas/health.ts';
import { json, operation } from './operation.ts';

export const getHealth = operation('getHealth', {
  summary: 'Health of the origin; 503 while it starts or stops',
  auth: false,
  rateLimited: false,
  responses: {
    200: json(healthSchema, 'healthy or degraded'),
    503: json(healthSchema, 'starting, or stopping (with Retry-After)'),
  },
});
