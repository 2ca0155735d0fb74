// mocha global fixture (.mocharc.json "require"): one PostgreSQL server for the whole run, started in mocha's main
// process before any file (parallel workers are forked after it, so they inherit its address), removed at the end.
// Test files get it through sharedPostgres(); without this fixture (one file run with another config) each file
// starts its own. Where PostgreSQL is missing nothing is started: the files skip as before.
import { PostgresServer, postgresMissing } from './postgres.js';

let server: PostgresServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (postgresMissing()) return;
  server = await PostgresServer.start();
  server.share();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.destroy();
}
