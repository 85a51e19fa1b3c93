import { statsAnswerSchema, statsQuerySchema } from '../schemas/stats.ts';
import { json, operation } from './operation.ts';

export const getStats = operation('getStats', {
  summary: 'Per-model quality of recent jobs: success rate, DPMO, sigma, latencies',
  auth: true,
  request: { query: statsQuerySchema },
  responses: { 200: json(statsAnswerSchema, 'one entry per model') },
  errors: ['forbidden'],
});
