// tests/mock-apim/jget.mjs: print one value of a JSON file by dotted path (jq-free checks).
//   node jget.mjs FILE PATH      e.g. PATH = dealers.0.dealer_id ; "" prints the whole document
//   node jget.mjs FILE --valid   exit 0 when FILE is valid JSON, 1 otherwise
// Strings print raw, other values as JSON; a missing path prints nothing and exits 3.
import { readFileSync } from "node:fs";

const [file, path] = process.argv.slice(2);
let doc;
try {
  doc = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  if (path === "--valid") process.exit(1);
  console.error(`jget: ${file}: ${e.message}`);
  process.exit(2);
}
if (path === "--valid") process.exit(0);
let cur = doc;
for (const part of (path || "").split(".").filter((p) => p.length)) {
  if (cur === null || typeof cur !== "object" || !(part in cur)) process.exit(3);
  cur = cur[part];
}
if (path === "length") cur = Array.isArray(doc) ? doc.length : Object.keys(doc).length;
process.stdout.write(typeof cur === "string" ? cur : JSON.stringify(cur));
