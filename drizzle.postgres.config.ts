import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL store's schema and migrations (`npm run db:generate` makes both dialects'). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './origin/store/postgres/schema/index.ts',
  out: './origin/store/postgres/migrations',
});
