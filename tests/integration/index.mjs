// tests/integration/index.mjs
// Entry point used when the folder itself is given to `node --test tests/integration/` (Node 22
// resolves a directory through package.json "main"): imports every NN-*.test.mjs file in name
// order so their tests register in this one process. Running the files directly (a glob of
// *.test.mjs) is equivalent; this file is not matched by that glob.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env.GW_IT_ONLY; // optional substring filter on file names
for (const f of readdirSync(here).filter((n) => n.endsWith('.test.mjs')).sort()) {
  if (only && !f.includes(only)) continue;
  await import(pathToFileURL(join(here, f)).href);
}
