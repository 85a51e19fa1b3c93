import { modelListSchema } from '../schemas/models.ts';
import { json, operation } from './operation.ts';

export const listModels = operation('listModels', {
  summary: 'The models, with cost and input schema',
  auth: false,
  responses: { 200: json(modelListSchema, 'every loaded model') },
});
