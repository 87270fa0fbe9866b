// tests/deploy/k8s-check.mjs — validates rendered Kubernetes manifests and the hardening
// policy. Input: one or more files of multi-document YAML (`kubectl kustomize` output), each
// named ENV=FILE (ENV: dev | staging | prod, for the per-environment rules).
//   node k8s-check.mjs --settings NAMES_FILE dev=dev.yaml staging=staging.yaml prod=prod.yaml
//   node k8s-check.mjs --self-test    (the checker must reject a set of broken objects)
// Checks:
//   1. schema: every object validates against the Kubernetes API schemas (kubernetes-models,
//      External Secrets models for the CRDs); unknown fields are errors (round trip through the
//      official client's typed models, @kubernetes/client-node, like kubeconform -strict);
//   2. hardening (seed §3.2): non-root uid 1000, read-only root, no privilege escalation, all
//      capabilities dropped, seccomp + AppArmor RuntimeDefault, no service-account token, CPU
//      and memory requests and limits, pinned images (tag or digest, never latest), probes on
//      long-running containers (readiness /ready, liveness /health for the gateway), only
//      emptyDir/configMap/secret volumes, no host namespaces;
//   3. wiring: Services select pods, Ingress backends exist, ConfigMaps and Secrets referenced
//      exist (or are optional), settings are real setting names (placeholders are not), the
//      namespace enforces Pod Security "restricted", default-deny NetworkPolicy, the seed's flows,
//      HPA/PDB/spread per environment.
// Exit status 0 when clean; every problem printed as "ENV Kind/name: message". Ends with
// "N passed, M failed" (one check per object plus one per environment-level rule).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import * as k8sModels from 'kubernetes-models';
import * as esModels from '@kubernetes-models/external-secrets';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';

// ---- schema ---------------------------------------------------------------------------------

// apiVersion -> { Kind: ModelClass } from the model packages' exports
function modelIndex() {
  const idx = new Map();
  const add = (ns) => {
    for (const v of Object.values(ns)) {
      if (v && typeof v === 'object') add(v);
      else if (typeof v === 'function' && v.apiVersion && v.kind) {
        if (!idx.has(v.apiVersion)) idx.set(v.apiVersion, new Map());
        idx.get(v.apiVersion).set(v.kind, v);
      }
    }
  };
  add(k8sModels);
  add(esModels);
  return idx;
}
const MODELS = modelIndex();

// The client's model type name for an apiVersion/kind (V1Deployment, V2HorizontalPodAutoscaler)
function clientType(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const v = version[0].toUpperCase() + version.slice(1);
  const known = ['', 'apps', 'batch', 'policy', 'autoscaling', 'networking.k8s.io', 'rbac.authorization.k8s.io'];
  if (!known.includes(group)) return null;
  return `${v}${kind}`;
}

// Paths present in `a` but missing from `b` (fields the typed model does not know).
function lostFields(a, b, path = '') {
  const out = [];
  if (a && typeof a === 'object' && !Array.isArray(a)) {
    for (const [k, v] of Object.entries(a)) {
      const p = `${path}.${k}`;
      if (b === undefined || b === null || !(k in b)) out.push(p);
      else out.push(...lostFields(v, b[k], p));
    }
  } else if (Array.isArray(a)) {
    a.forEach((v, i) => out.push(...lostFields(v, b?.[i], `${path}[${i}]`)));
  }
  return out;
}

function schemaProblems(obj) {
  const probs = [];
  const Model = MODELS.get(obj.apiVersion)?.get(obj.kind);
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
  } catch (e) {
    probs.push(`schema: ${String(e.message).split('\n').slice(0, 4).join('; ')}`);
  }
  const t = clientType(obj.apiVersion, obj.kind);
  if (t) {
    const round = ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, t, ''), t, '');
    if (round === obj || round?.kind !== obj.kind) probs.push(`no typed model ${t} for the strict check`);
    else for (const p of lostFields(obj, round)) probs.push(`unknown field ${p}`);
  }
  return probs;
}

// ---- hardening --------------------------------------------------------------------------------

const POD_KINDS = { Deployment: (o) => o.spec.template, StatefulSet: (o) => o.spec.template,
  DaemonSet: (o) => o.spec.template, Job: (o) => o.spec.template,
  CronJob: (o) => o.spec.jobTemplate.spec.template };

function imagePinned(image) {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const last = image.split('/').pop();
  const tag = last.includes(':') ? last.split(':').pop() : '';
  return tag !== '' && tag !== 'latest';
}

function hardeningProblems(obj) {
  const probs = [];
  const tmpl = POD_KINDS[obj.kind]?.(obj);
  if (!tmpl) return probs;
  const spec = tmpl.spec;
  const psc = spec.securityContext ?? {};
  if (psc.runAsNonRoot !== true) probs.push('pod securityContext.runAsNonRoot is not true');
  if (psc.runAsUser !== 1000 || psc.runAsGroup !== 1000) probs.push('pod must run as uid/gid 1000');
  if (psc.fsGroup !== 1000) probs.push('pod fsGroup is not 1000');
  if (psc.seccompProfile?.type !== 'RuntimeDefault') probs.push('pod seccompProfile is not RuntimeDefault');
  if (psc.appArmorProfile?.type !== 'RuntimeDefault') probs.push('pod appArmorProfile is not RuntimeDefault');
  if (spec.automountServiceAccountToken !== false) probs.push('automountServiceAccountToken is not false');
  for (const k of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[k]) probs.push(`${k} is set`);
  for (const v of spec.volumes ?? []) {
    const kinds = Object.keys(v).filter((k) => k !== 'name');
    if (!kinds.every((k) => ['emptyDir', 'configMap', 'secret', 'projected'].includes(k)))
      probs.push(`volume ${v.name} is ${kinds.join(',')} (only emptyDir/configMap/secret/projected)`);
  }
  const longRunning = obj.kind === 'Deployment' || obj.kind === 'StatefulSet' || obj.kind === 'DaemonSet';
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.allowPrivilegeEscalation !== false) probs.push(`${where}: allowPrivilegeEscalation is not false`);
    if (sc.readOnlyRootFilesystem !== true) probs.push(`${where}: readOnlyRootFilesystem is not true`);
    if (sc.privileged) probs.push(`${where}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) probs.push(`${where}: capabilities not dropped (ALL)`);
    if ((sc.capabilities?.add ?? []).length) probs.push(`${where}: adds capabilities`);
    if (sc.runAsUser === 0) probs.push(`${where}: runs as root`);
    for (const r of ['requests', 'limits'])
      for (const k of ['cpu', 'memory'])
        if (!c.resources?.[r]?.[k]) probs.push(`${where}: no ${r}.${k}`);
    if (!imagePinned(c.image)) probs.push(`${where}: image ${c.image} is not pinned (tag or digest, not latest)`);
    if (c.imagePullPolicy === 'Always' && !c.image.includes('@sha256:')) { /* allowed, but pinned above */ }
    if (longRunning) {
      if (!c.readinessProbe) probs.push(`${where}: no readinessProbe`);
      if (!c.livenessProbe) probs.push(`${where}: no livenessProbe`);
    }
    if (obj.kind === 'Deployment' && obj.metadata.name === 'mcp-server' && c.name === 'mcp-server') {
      if (c.readinessProbe?.httpGet?.path !== '/ready') probs.push('gateway readiness probe must be /ready');
      if (c.livenessProbe?.httpGet?.path !== '/health') probs.push('gateway liveness probe must be /health');
      const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
      for (const p of ['/tmp', '/app/.cache'])
        if (!mounts[p]) probs.push(`gateway has no writable volume at ${p}`);
    }
  }
  return probs;
}

// ---- environment-level rules --------------------------------------------------------------------

const EXPECT = {
  dev: { min: 1, max: 2, replicas: 1, upstreamEnv: 'mock', mock: true, mtls: false, backup: null, opa: false },
  staging: { min: 1, max: 3, replicas: 1, upstreamEnv: 'staging', mock: false, mtls: true, backup: '0 2 * * *', opa: true },
  prod: { min: 3, max: 10, replicas: 3, upstreamEnv: 'production', mock: false, mtls: true, backup: '17 * * * *', opa: true },
};

function envProblems(env, objs, settings) {
  const probs = [];
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const get = (k, n) => objs.find((o) => o.kind === k && o.metadata.name === n);
  const ns = byKind('Namespace');
  const exp = EXPECT[env];
  const nsName = { dev: 'mcp-dev', staging: 'mcp-staging', prod: 'mcp-production' }[env];
  if (ns.length !== 1 || ns[0].metadata.name !== nsName) probs.push(`namespace must be ${nsName}`);
  else if (ns[0].metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted')
    probs.push('namespace does not enforce Pod Security "restricted"');
  for (const o of objs)
    if (o.kind !== 'Namespace' && o.metadata.namespace !== nsName)
      probs.push(`${o.kind}/${o.metadata.name} is not in ${nsName}`);

  // Deployment, HPA, PDB, spread
  const dep = get('Deployment', 'mcp-server');
  if (!dep) return [...probs, 'no mcp-server Deployment'];
  if (dep.spec.replicas !== exp.replicas) probs.push(`mcp-server replicas ${dep.spec.replicas}, expected ${exp.replicas}`);
  const hpa = get('HorizontalPodAutoscaler', 'mcp-server-hpa');
  if (!hpa || hpa.spec.minReplicas !== exp.min || hpa.spec.maxReplicas !== exp.max)
    probs.push(`HPA must scale ${exp.min}–${exp.max}`);
  if (hpa?.spec.scaleTargetRef.name !== 'mcp-server') probs.push('HPA does not target mcp-server');
  const pdb = byKind('PodDisruptionBudget').find((p) => p.spec.selector?.matchLabels?.['app.kubernetes.io/name'] === 'mcp-server');
  if (!pdb) probs.push('no PodDisruptionBudget for mcp-server');
  const spread = dep.spec.template.spec.topologySpreadConstraints ?? [];
  if (!spread.some((s) => s.topologyKey === 'topology.kubernetes.io/zone')) probs.push('no topology spread across zones');
  const containers = dep.spec.template.spec.containers.map((c) => c.name);
  if (exp.opa !== containers.includes('opa')) probs.push(`OPA sidecar ${exp.opa ? 'missing' : 'unexpected'}`);
  if (exp.mock !== Boolean(get('Deployment', 'mock-apim'))) probs.push(`mock APIM ${exp.mock ? 'missing' : 'unexpected'}`);
  const cron = get('CronJob', 'mcp-registry-backup');
  if ((cron?.spec.schedule ?? null) !== exp.backup) probs.push(`backup schedule ${cron?.spec.schedule ?? 'none'}, expected ${exp.backup ?? 'none'}`);
  if (!get('Job', 'mcp-server-migrate')) probs.push('no migration Job');
  const sa = get('ServiceAccount', dep.spec.template.spec.serviceAccountName);
  if (!sa?.metadata.annotations?.['eks.amazonaws.com/role-arn']?.startsWith('arn:aws:iam::')) probs.push('gateway service account has no IAM role annotation');

  // settings: real names only in mcp-config, placeholders only in mcp-config-pending
  const cmName = (prefix) => byKind('ConfigMap').find((c) => c.metadata.name === prefix || c.metadata.name.startsWith(`${prefix}-`) && /^[a-z0-9]{10}$/.test(c.metadata.name.slice(prefix.length + 1)));
  const cfg = cmName('mcp-config');
  const pending = cmName('mcp-config-pending');
  if (!cfg) probs.push('no mcp-config ConfigMap');
  if (settings && cfg)
    for (const k of Object.keys(cfg.data ?? {}))
      if (!settings.has(k)) probs.push(`mcp-config: ${k} is not a gateway setting (docs/configuration.md)`);
  if (settings && pending)
    for (const k of Object.keys(pending.data ?? {}))
      if (settings.has(k)) probs.push(`mcp-config-pending: ${k} is a real setting now: move it to config/gateway.env`);
  if (cfg?.data?.GW_UPSTREAM_ENV !== exp.upstreamEnv) probs.push(`GW_UPSTREAM_ENV=${cfg?.data?.GW_UPSTREAM_ENV}, expected ${exp.upstreamEnv}`);
  if (cfg?.data?.GW_DB_MIGRATE_ON_START !== 'false') probs.push('gateway pods must not migrate (GW_DB_MIGRATE_ON_START=false; the Job does)');
  const ups = cmName('mcp-upstreams');
  try {
    const u = JSON.parse(ups.data['upstreams.json']);
    const hasTls = Object.values(u.upstreams).every((x) => x.tls?.clientCert);
    if (hasTls !== exp.mtls) probs.push(`upstreams.json: mTLS ${exp.mtls ? 'missing' : 'unexpected'}`);
    for (const x of Object.values(u.upstreams))
      for (const c of Object.values(x.credentials ?? {}))
        for (const v of Object.values(c)) if (v && typeof v === 'object' && 'value' in v) probs.push('upstreams.json has an inline secret');
  } catch (e) {
    probs.push(`mcp-upstreams: ${e.message}`);
  }

  // references: ConfigMaps, Secrets (ExternalSecret targets), Services, Ingress backends
  const cms = new Set(byKind('ConfigMap').map((c) => c.metadata.name));
  const secrets = new Set([...byKind('Secret').map((s) => s.metadata.name),
    ...byKind('ExternalSecret').map((e) => e.spec.target?.name ?? e.metadata.name)]);
  for (const o of objs) {
    const tmpl = POD_KINDS[o.kind]?.(o);
    if (!tmpl) continue;
    const ps = tmpl.spec;
    if (ps.serviceAccountName && !get('ServiceAccount', ps.serviceAccountName)) probs.push(`${o.kind}/${o.metadata.name}: service account ${ps.serviceAccountName} missing`);
    for (const v of ps.volumes ?? []) {
      if (v.configMap && !cms.has(v.configMap.name) && !v.configMap.optional) probs.push(`${o.kind}/${o.metadata.name}: ConfigMap ${v.configMap.name} missing`);
      if (v.secret && !secrets.has(v.secret.secretName) && !v.secret.optional) probs.push(`${o.kind}/${o.metadata.name}: Secret ${v.secret.secretName} missing`);
    }
    for (const c of ps.containers) {
      for (const ef of c.envFrom ?? [])
        if (ef.configMapRef && !cms.has(ef.configMapRef.name)) probs.push(`${o.kind}/${o.metadata.name}: ConfigMap ${ef.configMapRef.name} missing`);
      for (const e of c.env ?? []) {
        const r = e.valueFrom?.secretKeyRef;
        if (r && !secrets.has(r.name) && !r.optional) probs.push(`${o.kind}/${o.metadata.name}: Secret ${r.name} missing`);
      }
    }
  }
  const podLabels = objs.filter((o) => POD_KINDS[o.kind]).map((o) => POD_KINDS[o.kind](o).metadata?.labels ?? {});
  const matches = (sel, labels) => Object.entries(sel).every(([k, v]) => labels[k] === v);
  for (const s of byKind('Service')) {
    if (!podLabels.some((l) => matches(s.spec.selector ?? {}, l))) probs.push(`Service/${s.metadata.name} selects no pods`);
  }
  for (const ing of byKind('Ingress')) {
    if (ing.spec.ingressClassName !== 'alb') probs.push(`Ingress/${ing.metadata.name}: class is not alb`);
    if (ing.metadata.annotations?.['alb.ingress.kubernetes.io/healthcheck-path'] !== '/ready') probs.push('ALB health check must be /ready');
    const paths = new Map();
    for (const r of ing.spec.rules) for (const p of r.http.paths) {
      paths.set(p.path, p.backend.service);
      const svc = get('Service', p.backend.service.name);
      if (!svc) probs.push(`Ingress path ${p.path}: Service ${p.backend.service.name} missing`);
      else if (!svc.spec.ports.some((x) => x.name === p.backend.service.port.name || x.port === p.backend.service.port.number))
        probs.push(`Ingress path ${p.path}: port ${JSON.stringify(p.backend.service.port)} not on ${svc.metadata.name}`);
    }
    for (const p of ['/mcp', '/sse', '/messages', '/admin', '/chat']) if (!paths.has(p)) probs.push(`Ingress has no route ${p}`);
    if (!ing.metadata.annotations?.['alb.ingress.kubernetes.io/wafv2-acl-arn']) probs.push('Ingress has no WAF web ACL');
  }

  // network policies: default deny, DNS, the seed's flows, no open ingress, no metadata egress
  const nps = byKind('NetworkPolicy');
  const dd = nps.find((n) => Object.keys(n.spec.podSelector ?? {}).length === 0 && !n.spec.ingress && !n.spec.egress);
  if (!dd || !['Ingress', 'Egress'].every((t) => dd.spec.policyTypes.includes(t))) probs.push('no default-deny-all (ingress + egress) NetworkPolicy');
  const selects = (np, name) => {
    const s = np.spec.podSelector ?? {};
    if (s.matchLabels) return s.matchLabels['app.kubernetes.io/name'] === name;
    return (s.matchExpressions ?? []).some((e) => e.key === 'app.kubernetes.io/name' && e.operator === 'In' && e.values.includes(name));
  };
  const egressPorts = (name) => nps.filter((n) => selects(n, name)).flatMap((n) => (n.spec.egress ?? []).flatMap((e) => (e.ports ?? []).map((p) => p.port)));
  const gwOut = new Set(egressPorts('mcp-server'));
  for (const [what, port] of [['PostgreSQL', 5432], ['Redis', 6379], ['OTLP', 4318], ['S3/STS/IdP', 443]])
    if (!gwOut.has(port)) probs.push(`gateway has no egress to ${what} (:${port})`);
  if (exp.mock && !gwOut.has(8080)) probs.push('gateway cannot reach the mock APIM');
  if (!exp.mock && !nps.some((n) => n.metadata.name === 'allow-mcp-to-apim')) probs.push('gateway cannot reach the APIM');
  if (!new Set(egressPorts('mcp-server-migrate')).has(5432)) probs.push('migration Job cannot reach PostgreSQL');
  if (!nps.some((n) => (n.spec.egress ?? []).some((e) => (e.ports ?? []).some((p) => p.port === 53)) && Object.keys(n.spec.podSelector).length === 0)) probs.push('no DNS egress');
  for (const n of nps) {
    for (const r of n.spec.ingress ?? []) if (!r.from || r.from.length === 0) probs.push(`NetworkPolicy/${n.metadata.name}: ingress from anywhere`);
    for (const r of n.spec.egress ?? []) {
      if (!r.to || r.to.length === 0) probs.push(`NetworkPolicy/${n.metadata.name}: egress to anywhere`);
      for (const t of r.to ?? []) {
        const ip = t.ipBlock;
        if (!ip) continue;
        if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(ip.cidr)) probs.push(`NetworkPolicy/${n.metadata.name}: cidr ${ip.cidr} not resolved`);
        if (ip.cidr === '0.0.0.0/0') {
          for (const must of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'])
            if (!(ip.except ?? []).includes(must)) probs.push(`NetworkPolicy/${n.metadata.name}: 0.0.0.0/0 without excepting ${must}`);
          if ((r.ports ?? []).some((p) => p.port !== 443) || !r.ports) probs.push(`NetworkPolicy/${n.metadata.name}: public egress beyond :443`);
        }
      }
    }
  }
  const ingressFromAlb = nps.find((n) => n.metadata.name === 'allow-ingress-mcp');
  if (!ingressFromAlb?.spec.ingress?.[0]?.from?.[0]?.ipBlock) probs.push('no ingress from the ALB subnets');
  const es = byKind('ExternalSecret');
  const envName = { dev: 'dev', staging: 'staging', prod: 'production' }[env];
  for (const e of es) {
    const keys = [...(e.spec.data ?? []).map((d) => d.remoteRef.key), ...(e.spec.dataFrom ?? []).map((d) => d.extract?.key)];
    for (const k of keys) if (!k?.startsWith(`mcp/${envName}/`)) probs.push(`ExternalSecret/${e.metadata.name}: key ${k} outside mcp/${envName}/`);
  }
  if (!es.length) probs.push('no ExternalSecrets');
  if (exp.mtls !== Boolean(es.find((e) => e.metadata.name === 'mtls-certs'))) probs.push(`mtls-certs ExternalSecret ${exp.mtls ? 'missing' : 'unexpected'}`);
  return probs;
}

// ---- driver -------------------------------------------------------------------------------------

function loadDocs(file) {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter(Boolean);
}

export function check(sets, settings) {
  let passed = 0, failed = 0;
  const problems = [];
  for (const [env, objs] of sets) {
    for (const o of objs) {
      const p = [...schemaProblems(o), ...hardeningProblems(o)];
      if (p.length) { failed++; for (const m of p) problems.push(`${env} ${o.kind}/${o.metadata?.name}: ${m}`); }
      else passed++;
    }
    const p = envProblems(env, objs, settings);
    if (p.length) { failed++; for (const m of p) problems.push(`${env}: ${m}`); }
    else passed++;
  }
  return { passed, failed, problems };
}

function selfTest() {
  // a broken copy of a good pod spec: every mutation must be reported
  const good = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'mcp-dev' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' }, appArmorProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', image: 'r/i:1.0', securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        resources: { requests: { cpu: '1', memory: '1Mi' }, limits: { cpu: '1', memory: '1Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 1 } }, livenessProbe: { httpGet: { path: '/health', port: 1 } } }] } } },
  };
  const mutations = {
    'unknown field': (d) => { d.spec.template.spec.containers[0].imagePullPolizy = 'x'; },
    'bad type': (d) => { d.spec.replicas = 'three'; },
    'latest tag': (d) => { d.spec.template.spec.containers[0].image = 'r/i:latest'; },
    'untagged image': (d) => { d.spec.template.spec.containers[0].image = 'r/i'; },
    'writable root': (d) => { d.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false; },
    'root user': (d) => { d.spec.template.spec.securityContext.runAsUser = 0; },
    'capabilities kept': (d) => { d.spec.template.spec.containers[0].securityContext.capabilities = {}; },
    'escalation': (d) => { delete d.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation; },
    'no limits': (d) => { delete d.spec.template.spec.containers[0].resources.limits; },
    'no probe': (d) => { delete d.spec.template.spec.containers[0].readinessProbe; },
    'hostPath': (d) => { d.spec.template.spec.volumes = [{ name: 'h', hostPath: { path: '/' } }]; },
    'token mounted': (d) => { d.spec.template.spec.automountServiceAccountToken = true; },
    'no seccomp': (d) => { delete d.spec.template.spec.securityContext.seccompProfile; },
  };
  let bad = 0;
  const base = [...schemaProblems(good), ...hardeningProblems(good)];
  if (base.length) { console.log(`not ok - the good object is rejected: ${base.join('; ')}`); bad++; }
  for (const [name, mutate] of Object.entries(mutations)) {
    const d = structuredClone(good);
    mutate(d);
    const p = [...schemaProblems(d), ...hardeningProblems(d)];
    if (p.length) console.log(`ok - rejects ${name}: ${p[0]}`);
    else { console.log(`not ok - accepts ${name}`); bad++; }
  }
  console.log(`${Object.keys(mutations).length + 1 - bad} passed, ${bad} failed`);
  return bad === 0;
}

const args = process.argv.slice(2);
if (args[0] === '--self-test') process.exit(selfTest() ? 0 : 1);
let settings = null;
const sets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--settings') {
    settings = new Set(readFileSync(args[++i], 'utf8').split('\n').filter(Boolean));
    continue;
  }
  const [env, file] = args[i].split('=');
  if (!EXPECT[env]) { console.error(`unknown environment ${env}`); process.exit(2); }
  sets.push([env, loadDocs(file)]);
}
const { passed, failed, problems } = check(sets, settings);
for (const p of problems) console.log(`not ok - ${p}`);
for (const [env, objs] of sets) console.log(`# ${env}: ${objs.length} objects`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
