/** `npm run db:migrate`: applies pending migrations to DATABASE_URL. */
import { migrate } from './migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL is not set: point it at the database to migrate.');
    process.exit(2);
  }
  const result = await migrate(url);
  console.log(
    result.applied.length ? `applied ${result.applied.join(', ')}` : 'nothing to apply',
    `(schema version ${result.version})`,
  );
}

main().catch((error: unknown) => {
  console.error('migration failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
