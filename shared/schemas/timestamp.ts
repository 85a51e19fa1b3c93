import { z } from 'zod';

const iso = z.iso.datetime();

/**
 * An ISO 8601 timestamp in UTC, as `Date.prototype.toISOString` writes it. Its pattern is
 * repeated as metadata because zod-to-openapi documents a date-time by `format` alone, which
 * validators need not check; with it, the document's tests check every timestamp answered.
 */
export const timestampSchema = iso.meta({ pattern: iso._zod.pattern?.source });
