import {
  fileListSchema,
  fileSchema,
  uploadContentTypes,
  uploadQuerySchema,
} from '../schemas/files.ts';
import { idParams, json, operation } from './operation.ts';

export const uploadFile = operation('uploadFile', {
  summary: 'Upload a file for job inputs (the raw bytes, with their content type)',
  auth: true,
  request: {
    query: uploadQuerySchema,
    // Raw bytes: read whole by the route (up to the type's limit), then checked to parse as
    // their type; nothing else reads them first.
    body: {
      required: true,
      content: Object.fromEntries(
        uploadContentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
      ),
    },
  },
  responses: { 201: json(fileSchema, 'stored: its id goes in a job input') },
  errors: ['invalid_file', 'too_many_files'],
});

export const listFiles = operation('listFiles', {
  summary: "The account's files that have not expired, newest first",
  auth: true,
  responses: { 200: json(fileListSchema, 'at most 100') },
});

export const getFile = operation('getFile', {
  summary: 'One file (404 when it is not yours, or has expired)',
  auth: true,
  request: { params: idParams },
  responses: { 200: json(fileSchema, 'the file') },
});

export const deleteFile = operation('deleteFile', {
  summary: 'Delete a file and its bytes',
  auth: true,
  request: { params: idParams },
  responses: { 204: { description: 'deleted' } },
});
