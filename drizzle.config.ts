import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './origin/store/sqlite/schema/index.ts',
  out: './origin/store/sqlite/migrations',
});
