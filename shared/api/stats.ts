import { statsAnswerSchema, statsQuerySchema } from '../schemas/stats.ts';
import { usageAnswerSchema, usageQuerySchema } from '../schemas/usage.ts';
import { json, operation } from './operation.ts';

export const getStats = operation('getStats', {
  summary:
    'Per-model quality of recent jobs: success rate, DPMO, sigma, latencies; per interval with `bucket`',
  auth: true,
  request: { query: statsQuerySchema },
  responses: { 200: json(statsAnswerSchema, 'one entry per model') },
  errors: ['forbidden'],
});

export const getUsage = operation('getUsage', {
  summary: "The caller's jobs and credits per day over the last days (30 by default)",
  auth: true,
  request: { query: usageQuerySchema },
  responses: { 200: json(usageAnswerSchema, 'one entry per day, oldest first') },
});
