/**
 * Run by embedded-database.test.ts in a separate process (with the working directory elsewhere):
 * `open <dataDir>` tries to open the embedded database directly; `cli <dataDir> <name>` opens it as the CLI
 * does, creates an organization and lists them. Prints one JSON line.
 */
import { newId } from '../../lib/index.js';
import { createIdentityStores, openDatabase, openDatabaseForCli } from '../../storage/index.js';

const [mode, dataDir, name] = process.argv.slice(2);
try {
  if (mode === 'open') {
    const database = await openDatabase({ dataDir: dataDir! });
    await database.close();
    console.log(JSON.stringify({ opened: true }));
  } else {
    const database = await openDatabaseForCli({ dataDir: dataDir!, init: true }); // as `iam --init`: the folder may be empty
    const stores = createIdentityStores(database);
    await stores.organizations.create({ id: newId(), name: name!, participantIds: [name!.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 16)], createdAt: new Date() });
    const names = (await stores.organizations.list()).map((o) => o.name);
    await database.close();
    console.log(JSON.stringify({ via: database.via, names }));
  }
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message, code: (error as { code?: string }).code }));
}
