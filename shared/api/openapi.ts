import { z } from 'zod';
import { json, operation } from './operation.ts';

/** The answer of `GET /v1/openapi.json` itself, loosely: an OpenAPI 3.1 document. */
const openApiDocumentSchema = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenApiDocument' });

export const getOpenApi = operation('getOpenApi', {
  summary: 'This document',
  auth: false,
  responses: { 200: json(openApiDocumentSchema, 'OpenAPI 3.1') },
});
