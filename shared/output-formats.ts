/**
 * The output formats a job may ask for (`POST /v1/jobs` `format`): each with its content type
 * and file extension. `wav` is what a model makes; the others are encoded from it.
 */
export const outputFormats = {
  wav: { contentType: 'audio/wav', extension: 'wav' },
  mp3: { contentType: 'audio/mpeg', extension: 'mp3' },
} as const;

export type OutputFormat = keyof typeof outputFormats;
export const outputFormatNames = Object.keys(outputFormats) as [OutputFormat, ...OutputFormat[]];
