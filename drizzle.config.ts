import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './origin/store/schema/index.ts',
  out: './origin/store/migrations',
});
