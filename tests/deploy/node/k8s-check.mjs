// tests/deploy/k8s-check.mjs — validates rendered Kubernetes manifests and the hardening
// policy. Input: one or more files of multi-document YAML (`kubectl kustomize` output), each
// named ENV=FILE (ENV: dev | staging | prod, for the per-environment rules).
//   node k8s-check.mjs --settings SETTINGS_TSV [--extract DIR] dev=dev.yaml staging=... prod=...
//   node k8s-check.mjs --self-test    (the checker must reject a set of broken pod specs)
//   node k8s-check.mjs --settings SETTINGS_TSV --mutations prod=prod.yaml
//                                     (every mutation of the rendered environment that breaks a
//                                     rule below — an unknown setting, an exposed metrics port,
//                                     a Redis sidecar that does not verify... — must be reported)
// SETTINGS_TSV: `NAME<TAB>TYPE<TAB>DEFAULT` lines from `mcpgw config docs` (a names-only file
// works too). --extract DIR writes each environment's rate-limit rules file (ENV.ratelimits.json)
// and Redis sidecar configuration (ENV.stunnel.conf) for the shell checks that run them.
// Checks:
//   1. schema: every object validates against the Kubernetes API schemas (kubernetes-models,
//      External Secrets models for the CRDs); unknown fields are errors (round trip through the
//      official client's typed models, @kubernetes/client-node, like kubeconform -strict);
//   2. hardening (seed §3.2): non-root uid 1000, read-only root, no privilege escalation, all
//      capabilities dropped, seccomp + AppArmor RuntimeDefault, no service-account token, CPU
//      and memory requests and limits, pinned images (tag or digest, never latest), probes on
//      long-running containers and native sidecars (readiness /ready, liveness /health for the
//      gateway), only emptyDir/configMap/secret volumes, no host namespaces;
//   3. wiring: Services select pods, Ingress backends exist, ConfigMaps and Secrets referenced
//      exist (or are optional), settings are real setting names (placeholders are not; secret
//      settings only from Secrets), the namespace enforces Pod Security "restricted",
//      default-deny NetworkPolicy, the seed's flows, HPA/PDB/spread per environment;
//   4. what issues 10–12 added: /metrics on its own port, reachable from the monitoring
//      namespace only (no Service, ALB rule or route to it; the scrape annotation names it);
//      traces to the OTLP port the egress rule opens; Redis through the redis-tls native sidecar
//      (plain Redis on the pod's loopback only, TLS 1.2+ with chain and host-name verification to
//      the port the Redis egress rule opens, the AUTH token from a Secret); the trusted proxies
//      are the ALB subnets; no per-address connection cap below the process cap (every client
//      arrives from the ALB's few addresses); the audit keys shared from a Secret.
// Exit status 0 when clean; every problem printed as "ENV Kind/name: message". Ends with
// "N passed, M failed" (one check per object plus one per environment-level rule).
import { readFileSync, writeFileSync } from 'node:fs';
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
  const sidecars = new Set((spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
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
    if (longRunning && (spec.containers.includes(c) || sidecars.has(c.name))) {
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

function envProblems(env, objs, settings, extract = null) {
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
  // sidecars are native (initContainers that keep running): started before the gateway, stopped after it
  const sidecar = (name) => (dep.spec.template.spec.initContainers ?? []).find((c) => c.name === name && c.restartPolicy === 'Always');
  if (exp.opa !== Boolean(sidecar('opa'))) probs.push(`OPA sidecar ${exp.opa ? 'missing' : 'unexpected'}`);
  if (dep.spec.template.spec.containers.some((c) => c.name === 'opa' || c.name === 'redis-tls'))
    probs.push('a sidecar is a regular container: it would stop with the gateway instead of after it (use a native sidecar)');
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
  if (pending && Object.keys(pending.data ?? {}).length === 0) probs.push('mcp-config-pending is empty: remove it and its envFrom');
  if (extract && cfg) writeFileSync(`${extract}/${env}.config.env`, Object.entries(cfg.data ?? {}).map(([k, v]) => `${k}=${v}\n`).join(''));
  // secret settings in a ConfigMap only where the value carries no secret
  for (const [k, v] of Object.entries(cfg?.data ?? {})) {
    if (settings?.get(k)?.type !== 'secret') continue;
    const harmless = (k === 'GW_AUDIT_DATABASE_URL' && v === 'same') || (k === 'REDIS_URL' && !String(v).includes('@'));
    if (!harmless) probs.push(`mcp-config: ${k} is a secret setting: it belongs in a Secret`);
  }
  // the environment of every container running the gateway image: real settings only, secrets from Secrets
  const gwImage = (c) => /(^|\/)mcpgw(:|@|$)/.test(c.image ?? '');
  for (const o of objs) {
    const tmpl = POD_KINDS[o.kind]?.(o);
    if (!tmpl) continue;
    for (const c of [...(tmpl.spec.initContainers ?? []), ...tmpl.spec.containers].filter(gwImage))
      for (const e of c.env ?? []) {
        if (settings && !settings.has(e.name)) probs.push(`${o.kind}/${o.metadata.name} container ${c.name}: ${e.name} is not a gateway setting`);
        if (settings?.get(e.name)?.type === 'secret' && !e.valueFrom?.secretKeyRef)
          probs.push(`${o.kind}/${o.metadata.name} container ${c.name}: ${e.name} is a secret setting given in the manifest (take it from a Secret)`);
      }
  }
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
  // the admin target group is sticky: the console's dashboard and a running verification are
  // one replica's, so an operator's requests must keep reaching the replica they began on
  const admin = get('Service', 'mcp-server-admin');
  if (admin) {
    const tga = Object.fromEntries((admin.metadata.annotations?.['alb.ingress.kubernetes.io/target-group-attributes'] ?? '')
      .split(',').filter(Boolean).map((kv) => kv.split('=')));
    if (tga['stickiness.enabled'] !== 'true' || tga['stickiness.type'] !== 'lb_cookie')
      probs.push('Service/mcp-server-admin: the admin target group is not sticky (stickiness.enabled=true,stickiness.type=lb_cookie)');
    if (!tga['deregistration_delay.timeout_seconds'])
      probs.push('Service/mcp-server-admin: its target-group attributes replace the Ingress\'s: repeat deregistration_delay.timeout_seconds');
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
  probs.push(...platformProblems(env, objs, settings, extract, { dep, cfg, nps, selects, matches }));
  return probs;
}

// ---- metrics, traces, Redis and its TLS sidecar, client addresses, audit keys -----------------------

const portOf = (addr) => { const m = /:(\d+)$/.exec(addr ?? ''); return m ? Number(m[1]) : null; };
const dirOf = (p) => p.slice(0, p.lastIndexOf('/')) || '/';
const baseOf = (p) => p.slice(p.lastIndexOf('/') + 1);

// stunnel's `key = value` lines (comments `;`/`#`, [sections] ignored; a repeated key keeps all values)
function parseStunnel(text) {
  const m = new Map();
  for (const raw of String(text).split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const i = line.indexOf('=');
    if (i < 0) continue;
    const k = line.slice(0, i).trim(), v = line.slice(i + 1).trim();
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(v);
  }
  return m;
}

// The file a container sees at PATH: { text } from a ConfigMap / ExternalSecret template behind
// its volume, or { problem }.
function mountedFile(objs, podSpec, container, path) {
  const mount = (container.volumeMounts ?? []).find((m) => m.mountPath === dirOf(path));
  if (!mount) return { problem: `${container.name}: nothing mounted at ${dirOf(path)} (for ${path})` };
  const vol = (podSpec.volumes ?? []).find((v) => v.name === mount.name);
  const key = (items) => (items ?? []).find((it) => it.path === baseOf(path))?.key ?? (items ? null : baseOf(path));
  if (vol?.configMap) {
    const k = key(vol.configMap.items);
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === vol.configMap.name);
    const text = k && cm?.data?.[k];
    return text ? { text } : { problem: `${container.name}: ${path} is not in ConfigMap ${vol.configMap.name}` };
  }
  if (vol?.secret) {
    const k = key(vol.secret.items);
    const es = objs.find((o) => o.kind === 'ExternalSecret' && (o.spec.target?.name ?? o.metadata.name) === vol.secret.secretName);
    // a templated file (its text), or a value taken as is from Secrets Manager (its reference)
    const text = k && (es?.spec.target?.template?.data?.[k] ??
      ((es?.spec.data ?? []).some((d) => d.secretKey === k && d.remoteRef?.key) ? `(Secrets Manager: ${es.metadata.name}/${k})` : undefined));
    return text ? { text } : { problem: `${container.name}: ${path} is not rendered by an ExternalSecret for Secret ${vol.secret.secretName}` };
  }
  return { problem: `${container.name}: ${path} is on volume ${mount.name}, neither a ConfigMap nor a Secret` };
}

function platformProblems(env, objs, settings, extract, { dep, cfg, nps, selects, matches }) {
  const probs = [];
  const ps = dep.spec.template.spec;
  const gw = ps.containers.find((c) => c.name === 'mcp-server');
  if (!gw || !cfg) return ['no gateway container or configuration'];
  const data = cfg.data ?? {};
  const val = (k) => data[k] ?? settings?.get(k)?.def;
  const fromSecret = (name) => (gw.env ?? []).some((e) => e.name === name && e.valueFrom?.secretKeyRef);
  const gwPolicies = nps.filter((n) => selects(n, 'mcp-server'));
  const isMonitoring = (f) => !f.ipBlock && !f.podSelector && f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring';

  // metrics: a port of its own that only the monitoring namespace reaches
  const mport = portOf(data.GW_METRICS_LISTEN);
  if (!mport) probs.push('GW_METRICS_LISTEN is not set: /metrics would be served on the admin listener, which the ALB routes');
  else {
    if ([portOf(val('GW_LISTEN')), portOf(val('GW_ADMIN_LISTEN'))].includes(mport)) probs.push(`metrics port ${mport} is the MCP or admin port`);
    const cp = (gw.ports ?? []).find((p) => p.containerPort === mport);
    if (!cp) probs.push(`the gateway container does not declare the metrics port ${mport}`);
    const ann = dep.spec.template.metadata.annotations ?? {};
    if (ann['prometheus.io/scrape'] !== 'true' || ann['prometheus.io/port'] !== String(mport) || ann['prometheus.io/path'] !== '/metrics')
      probs.push(`the scrape annotations must name :${mport}/metrics`);
    for (const svc of objs.filter((o) => o.kind === 'Service' && matches(o.spec.selector ?? {}, dep.spec.template.metadata.labels)))
      for (const sp of svc.spec.ports ?? [])
        if ((sp.targetPort ?? sp.port) === mport || (cp?.name && sp.targetPort === cp.name))
          probs.push(`Service/${svc.metadata.name} exposes the metrics port (a route or the ALB could reach it)`);
    let monitoring = false;
    for (const n of gwPolicies)
      for (const r of n.spec.ingress ?? []) {
        if (r.ports && !r.ports.some((p) => p.port === mport || (cp?.name && p.port === cp.name))) continue;
        if (r.from?.length && r.from.every(isMonitoring)) monitoring = true;
        else probs.push(`NetworkPolicy/${n.metadata.name}: the metrics port ${mport} is open to more than the monitoring namespace`);
      }
    if (!monitoring) probs.push(`the monitoring namespace cannot reach the metrics port ${mport}`);
  }

  // traces: the egress rule to the monitoring namespace opens the collector's port
  if (!data.GW_OTLP_ENDPOINT) probs.push('GW_OTLP_ENDPOINT is not set: no traces');
  else {
    let u = null;
    try { u = new URL(data.GW_OTLP_ENDPOINT); } catch { /* reported below */ }
    const p = u && Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const open = gwPolicies.some((n) => (n.spec.egress ?? []).some((r) => (r.to ?? []).some(isMonitoring) && (r.ports ?? []).some((x) => x.port === p)));
    if (!u || !u.hostname.endsWith('.monitoring.svc.cluster.local') && !u.hostname.endsWith('.monitoring.svc')) probs.push(`GW_OTLP_ENDPOINT ${data.GW_OTLP_ENDPOINT} is not a collector of the monitoring namespace`);
    else if (!open) probs.push(`no egress to the monitoring namespace on :${p} (GW_OTLP_ENDPOINT)`);
  }

  // Redis: plain only to the sidecar on the pod's loopback, TLS with verification beyond it
  const redis = data.REDIS_URL;
  let rurl = null;
  try { rurl = redis ? new URL(redis) : null; } catch { /* reported below */ }
  if (!redis) probs.push('REDIS_URL is not set: rate limits, session state and idempotency would be per replica');
  else if (!rurl || rurl.protocol !== 'redis:') probs.push(`REDIS_URL ${redis}: must be redis:// to the redis-tls sidecar (the client has no TLS; rediss:// is refused)`);
  else if (rurl.hostname !== '127.0.0.1') probs.push(`REDIS_URL must name the redis-tls sidecar on 127.0.0.1, not ${rurl.hostname}: plain Redis must not leave the pod`);
  if (rurl && (rurl.username || rurl.password)) probs.push('REDIS_URL carries credentials: the AUTH token comes from a Secret as GW_REDIS_PASSWORD');
  if (!fromSecret('GW_REDIS_PASSWORD')) probs.push('GW_REDIS_PASSWORD (the ElastiCache AUTH token) does not come from a Secret');
  if (data.GW_RATELIMIT_BACKEND !== 'redis') probs.push(`GW_RATELIMIT_BACKEND=${data.GW_RATELIMIT_BACKEND}: limits must be shared (redis)`);
  const tls = (ps.initContainers ?? []).find((c) => c.name === 'redis-tls');
  if (!tls || tls.restartPolicy !== 'Always') probs.push('no redis-tls native sidecar (an initContainer with restartPolicy Always)');
  else {
    const f = mountedFile(objs, ps, tls, (tls.args ?? tls.command ?? [])[0] ?? '');
    if (f.problem) probs.push(`redis-tls: ${f.problem}`);
    else {
      const c = parseStunnel(f.text);
      const one = (k) => (c.get(k) ?? []).at(-1);
      const yes = (k) => ['yes', 'true', '1'].includes(String(one(k)).toLowerCase());
      if (extract) writeFileSync(`${extract}/${env}.stunnel.conf`, f.text);
      const accept = one('accept') ?? '';
      if (!/^127\.0\.0\.1:\d+$/.test(accept)) probs.push(`redis-tls: accept = ${accept}: must listen on 127.0.0.1 only`);
      else if (rurl && portOf(accept) !== Number(rurl.port || 6379)) probs.push(`redis-tls: accepts on ${accept} but REDIS_URL names port ${rurl.port || 6379}`);
      if (!yes('client')) probs.push('redis-tls: not in client mode (client = yes)');
      if (!yes('verifyChain') && !['2', '3', '4'].includes(String(one('verify')))) probs.push('redis-tls: the certificate chain is not verified (verifyChain = yes)');
      if (!one('checkHost')) probs.push('redis-tls: the host name is not verified (checkHost)');
      if (!one('CAfile') && !one('CApath')) probs.push('redis-tls: no CA to verify against (CAfile)');
      if (!['TLSv1.2', 'TLSv1.3'].includes(one('sslVersionMin'))) probs.push(`redis-tls: sslVersionMin ${one('sslVersionMin') ?? 'unset'}: TLS 1.2 or later`);
      if (c.has('sslVersion') || c.has('options') && c.get('options').some((o) => /NO_TLSv1_[23]/.test(o))) probs.push('redis-tls: protocol versions overridden');
      const cport = portOf(one('connect'));
      const redisOut = new Set(gwPolicies.flatMap((n) => (n.spec.egress ?? []).filter((r) => (r.to ?? []).some((t) => t.ipBlock)).flatMap((r) => (r.ports ?? []).map((x) => x.port))));
      if (!cport || !redisOut.has(cport)) probs.push(`redis-tls: connect = ${one('connect')}: no egress rule opens that port`);
    }
  }

  // client addresses behind the ALB
  const alb = nps.find((n) => n.metadata.name === 'allow-ingress-mcp');
  const albCidrs = (alb?.spec.ingress?.[0]?.from ?? []).map((f) => f.ipBlock?.cidr).filter(Boolean).sort();
  const trusted = String(data.GW_TRUSTED_PROXIES ?? '').split(',').map((x) => x.trim()).filter(Boolean).sort();
  if (!albCidrs.length || JSON.stringify(trusted) !== JSON.stringify(albCidrs))
    probs.push(`GW_TRUSTED_PROXIES=${trusted.join(',') || '(empty)'} must be exactly the ALB subnets (${albCidrs.join(',')}): only the ALB may name the client`);
  const perIp = Number(val('GW_MAX_CONNECTIONS_PER_IP')), maxConn = Number(val('GW_MAX_CONNECTIONS'));
  if (perIp !== 0 && perIp < maxConn)
    probs.push(`GW_MAX_CONNECTIONS_PER_IP=${perIp} is below GW_MAX_CONNECTIONS=${maxConn}: every client arrives from the ALB's few addresses`);
  if (!data.GW_RATELIMIT_HTTP_PER_IP) probs.push('GW_RATELIMIT_HTTP_PER_IP is not set (the per-address limit before authentication)');
  if (data.GW_RATELIMIT_RULES_FILE) {
    const f = mountedFile(objs, ps, gw, data.GW_RATELIMIT_RULES_FILE);
    if (f.problem) probs.push(`GW_RATELIMIT_RULES_FILE: ${f.problem}`);
    else if (extract) writeFileSync(`${extract}/${env}.ratelimits.json`, f.text);
  }

  // the chat agent: a model, its key as a mounted secret file, its page in the image, HTTPS out
  const provider = val('GW_CHAT_PROVIDER') ?? 'none';
  if (val('GW_CHAT_ENABLED') !== 'false' && provider !== 'none') {
    if (!data.GW_CHAT_MODEL) probs.push(`GW_CHAT_PROVIDER=${provider} without GW_CHAT_MODEL`);
    if (!data.GW_CHAT_API_KEY_FILE) probs.push('GW_CHAT_API_KEY_FILE is not set: the model key would have to be an environment variable');
    else {
      const f = mountedFile(objs, ps, gw, data.GW_CHAT_API_KEY_FILE);
      const m = (gw.volumeMounts ?? []).find((x) => x.mountPath === dirOf(data.GW_CHAT_API_KEY_FILE));
      const v = m && ps.volumes.find((x) => x.name === m.name);
      if (f.problem) probs.push(`GW_CHAT_API_KEY_FILE: ${f.problem}`);
      else if (!v?.secret) probs.push(`GW_CHAT_API_KEY_FILE ${data.GW_CHAT_API_KEY_FILE} is not on a Secret volume`);
      for (const c of [...(ps.initContainers ?? []), ...ps.containers])
        if (c !== gw && (c.volumeMounts ?? []).some((x) => x.name === m?.name)) probs.push(`container ${c.name} mounts the model key`);
    }
    let u = null;
    try { u = new URL(data.GW_CHAT_BASE_URL || 'https://api.openai.com/v1'); } catch { /* below */ }
    if (!u || u.protocol !== 'https:') probs.push(`GW_CHAT_BASE_URL ${data.GW_CHAT_BASE_URL}: the model key would travel in clear (https only)`);
    const out443 = gwPolicies.some((n) => (n.spec.egress ?? []).some((r) => (r.to ?? []).some((t) => t.ipBlock?.cidr === '0.0.0.0/0') && (r.ports ?? []).some((x) => x.port === 443)));
    if (!out443) probs.push('the chat agent has a provider but no egress rule opens HTTPS to public addresses');
  }
  if (data.GW_CHAT_UI_DIR && data.GW_CHAT_UI_DIR !== '/usr/share/mcpgw/chat-ui') probs.push(`GW_CHAT_UI_DIR=${data.GW_CHAT_UI_DIR}: the image carries the page in /usr/share/mcpgw/chat-ui`);
  if (data.GW_CHAT_UI_DIR && !data.GW_CHAT_UI_CONNECT_SRC && !data.GW_ADMIN_UI_CONNECT_SRC) probs.push('the chat page cannot reach the IdP to sign in (GW_CHAT_UI_CONNECT_SRC)');

  // the audit trail: one signing key and one pseudonym key for every replica, a copy in PostgreSQL
  for (const k of ['GW_AUDIT_SIGNING_KEY', 'GW_PII_KEY'])
    if (!fromSecret(k)) probs.push(`${k} does not come from a Secret: each replica would make its own`);
  if (!data.GW_AUDIT_DATABASE_URL) probs.push('GW_AUDIT_DATABASE_URL is not set: the audit trail would live only on the pod until archived');
  if (data.GW_AUDIT_DIR) {
    const m = (gw.volumeMounts ?? []).find((x) => x.mountPath === data.GW_AUDIT_DIR);
    const v = m && ps.volumes.find((x) => x.name === m.name);
    if (!v?.emptyDir?.sizeLimit) probs.push(`GW_AUDIT_DIR ${data.GW_AUDIT_DIR} is not a sized emptyDir volume`);
  }
  return probs;
}

// ---- driver -------------------------------------------------------------------------------------

function loadDocs(file) {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter(Boolean);
}

export function check(sets, settings, extract = null) {
  let passed = 0, failed = 0;
  const problems = [];
  for (const [env, objs] of sets) {
    for (const o of objs) {
      const p = [...schemaProblems(o), ...hardeningProblems(o)];
      if (p.length) { failed++; for (const m of p) problems.push(`${env} ${o.kind}/${o.metadata?.name}: ${m}`); }
      else passed++;
    }
    const p = envProblems(env, objs, settings, extract);
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
        readinessProbe: { httpGet: { path: '/ready', port: 1 } }, livenessProbe: { httpGet: { path: '/health', port: 1 } } }],
      initContainers: [{ name: 's', image: 'r/s:1.0', restartPolicy: 'Always',
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        resources: { requests: { cpu: '1', memory: '1Mi' }, limits: { cpu: '1', memory: '1Mi' } },
        readinessProbe: { exec: { command: ['/p'] } }, livenessProbe: { exec: { command: ['/p'] } } }] } } },
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
    'sidecar without probes': (d) => { delete d.spec.template.spec.initContainers[0].livenessProbe; },
    'sidecar with a writable root': (d) => { d.spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem = false; },
    'sidecar adding a capability': (d) => { d.spec.template.spec.initContainers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE']; },
    'sidecar as root': (d) => { d.spec.template.spec.initContainers[0].securityContext.runAsUser = 0; },
    'sidecar without limits': (d) => { delete d.spec.template.spec.initContainers[0].resources.limits; },
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

// Mutations of a rendered environment (prod): each breaks one rule of the platform section and
// must be reported with the expected words. Proves the checker fails on what it is meant to.
const MUTATIONS = (() => {
  const dep = (o) => o.find((x) => x.kind === 'Deployment' && x.metadata.name === 'mcp-server');
  const gw = (o) => dep(o).spec.template.spec.containers.find((c) => c.name === 'mcp-server');
  const cfg = (o) => o.find((x) => x.kind === 'ConfigMap' && /^mcp-config-[a-z0-9]{10}$/.test(x.metadata.name));
  const tls = (o) => dep(o).spec.template.spec.initContainers.find((c) => c.name === 'redis-tls');
  const conf = (o, f) => { const e = o.find((x) => x.kind === 'ExternalSecret' && x.metadata.name === 'redis-auth'); const t = e.spec.target.template.data; t['stunnel.conf'] = f(t['stunnel.conf']); };
  const np = (o, n) => o.find((x) => x.kind === 'NetworkPolicy' && x.metadata.name === n);
  return {
    'an unknown setting': [(o) => { cfg(o).data.GW_NOT_A_SETTING = '1'; }, /GW_NOT_A_SETTING is not a gateway setting/],
    'a placeholder ConfigMap holding a real setting': [(o) => { o.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mcp-config-pending-abcde12345' }, data: { GW_METRICS_LISTEN: '0.0.0.0:9464' } }); }, /real setting now/],
    'an unknown setting in the container env': [(o) => { gw(o).env.push({ name: 'GW_REDIS_URL', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'GW_REDIS_PASSWORD' } } }); }, /GW_REDIS_URL is not a gateway setting/],
    'a secret setting in the ConfigMap': [(o) => { cfg(o).data.GW_SESSION_SECRET = 'x'; }, /GW_SESSION_SECRET is a secret setting/],
    'a secret setting as a literal': [(o) => { gw(o).env.push({ name: 'GW_METRICS_TOKEN', value: 't' }); }, /GW_METRICS_TOKEN is a secret setting given in the manifest/],
    'metrics on the MCP port': [(o) => { cfg(o).data.GW_METRICS_LISTEN = '0.0.0.0:8000'; }, /is the MCP or admin port/],
    'metrics on the admin listener': [(o) => { delete cfg(o).data.GW_METRICS_LISTEN; }, /GW_METRICS_LISTEN is not set/],
    'metrics port in a Service': [(o) => { o.find((x) => x.kind === 'Service' && x.metadata.name === 'mcp-server-svc').spec.ports.push({ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }); }, /exposes the metrics port/],
    'metrics port open to the ALB': [(o) => { np(o, 'allow-ingress-mcp').spec.ingress[0].ports.push({ protocol: 'TCP', port: 9464 }); }, /open to more than the monitoring namespace/],
    'monitoring rule open to every port': [(o) => { delete np(o, 'allow-ingress-mcp').spec.ingress[1].ports; np(o, 'allow-ingress-mcp').spec.ingress[1].from.push({ ipBlock: { cidr: '10.0.0.0/8' } }); }, /open to more than the monitoring namespace/],
    'scrape annotation on the MCP port': [(o) => { dep(o).spec.template.metadata.annotations['prometheus.io/port'] = '8000'; }, /scrape annotations/],
    'traces to a port the egress rule does not open': [(o) => { cfg(o).data.GW_OTLP_ENDPOINT = 'http://otel-collector.monitoring.svc.cluster.local:4317/v1/traces'; }, /no egress to the monitoring namespace on :4317/],
    'rediss:// (the client has no TLS)': [(o) => { cfg(o).data.REDIS_URL = 'rediss://master.example.cache.amazonaws.com:6379/0'; }, /must be redis:\/\/ to the redis-tls sidecar/],
    'plain Redis to ElastiCache': [(o) => { cfg(o).data.REDIS_URL = 'redis://master.example.cache.amazonaws.com:6379/0'; }, /plain Redis must not leave the pod/],
    'the AUTH token in REDIS_URL': [(o) => { cfg(o).data.REDIS_URL = 'redis://:token@127.0.0.1:6379/0'; }, /secret setting|carries credentials/],
    'no AUTH token': [(o) => { gw(o).env = gw(o).env.filter((e) => e.name !== 'GW_REDIS_PASSWORD'); }, /GW_REDIS_PASSWORD/],
    'limits per replica': [(o) => { cfg(o).data.GW_RATELIMIT_BACKEND = 'memory'; }, /must be shared/],
    'no TLS sidecar': [(o) => { const s = dep(o).spec.template.spec; s.initContainers = s.initContainers.filter((c) => c.name !== 'redis-tls'); }, /no redis-tls native sidecar/],
    'TLS sidecar as a regular container': [(o) => { const s = dep(o).spec.template.spec; const t = tls(o); s.initContainers = s.initContainers.filter((c) => c !== t); delete t.restartPolicy; s.containers.push(t); }, /regular container/],
    'sidecar listening on every address': [(o) => conf(o, (t) => t.replace('accept = 127.0.0.1:6379', 'accept = 0.0.0.0:6379')), /must listen on 127.0.0.1 only/],
    'sidecar on another port than REDIS_URL': [(o) => conf(o, (t) => t.replace('accept = 127.0.0.1:6379', 'accept = 127.0.0.1:6380')), /REDIS_URL names port/],
    'sidecar not verifying the chain': [(o) => conf(o, (t) => t.replace(/verifyChain = yes/, 'verifyChain = no')), /chain is not verified/],
    'sidecar not verifying the host name': [(o) => conf(o, (t) => t.replace(/checkHost = .*\n/, '')), /host name is not verified/],
    'sidecar allowing TLS 1.0': [(o) => conf(o, (t) => t.replace('sslVersionMin = TLSv1.2', 'sslVersionMin = TLSv1')), /TLS 1.2 or later/],
    'sidecar to a port no egress rule opens': [(o) => conf(o, (t) => t.replace(/(connect = .*):6379/, '$1:6380')), /no egress rule opens that port/],
    'sidecar with a writable root': [(o) => { tls(o).securityContext.readOnlyRootFilesystem = false; }, /readOnlyRootFilesystem/],
    'sidecar without probes': [(o) => { delete tls(o).readinessProbe; }, /no readinessProbe/],
    'every address trusted': [(o) => { cfg(o).data.GW_TRUSTED_PROXIES = '0.0.0.0/0'; }, /must be exactly the ALB subnets/],
    'no trusted proxies': [(o) => { delete cfg(o).data.GW_TRUSTED_PROXIES; }, /must be exactly the ALB subnets/],
    'the default per-address connection cap': [(o) => { delete cfg(o).data.GW_MAX_CONNECTIONS_PER_IP; }, /GW_MAX_CONNECTIONS_PER_IP=512 is below/],
    'a rules file that is not mounted': [(o) => { cfg(o).data.GW_RATELIMIT_RULES_FILE = '/etc/mcpgw/other/rules.json'; }, /nothing mounted at \/etc\/mcpgw\/other/],
    'an admin console that is not sticky': [(o) => { const a = o.find((x) => x.kind === 'Service' && x.metadata.name === 'mcp-server-admin'); a.metadata.annotations['alb.ingress.kubernetes.io/target-group-attributes'] = 'deregistration_delay.timeout_seconds=30'; }, /admin target group is not sticky/],
    'a signing key per replica': [(o) => { gw(o).env = gw(o).env.filter((e) => e.name !== 'GW_AUDIT_SIGNING_KEY'); }, /GW_AUDIT_SIGNING_KEY does not come from a Secret/],
    'pseudonyms per replica': [(o) => { gw(o).env = gw(o).env.filter((e) => e.name !== 'GW_PII_KEY'); }, /GW_PII_KEY does not come from a Secret/],
    'an empty placeholder ConfigMap': [(o) => { o.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mcp-config-pending-abcde12345' }, data: {} }); }, /mcp-config-pending is empty/],
    'the model key in the ConfigMap': [(o) => { cfg(o).data.GW_CHAT_API_KEY = 'sk-test'; }, /GW_CHAT_API_KEY is a secret setting/],
    'the model key file not mounted': [(o) => { gw(o).volumeMounts = gw(o).volumeMounts.filter((m) => m.name !== 'chat-llm'); }, /GW_CHAT_API_KEY_FILE: mcp-server: nothing mounted/],
    'the model key file on a ConfigMap': [(o) => { dep(o).spec.template.spec.volumes.find((v) => v.name === 'chat-llm').secret = undefined; dep(o).spec.template.spec.volumes.find((v) => v.name === 'chat-llm').configMap = { name: cfg(o).metadata.name, items: [{ key: 'GW_CHAT_MODEL', path: 'api-key' }] }; }, /not on a Secret volume/],
    'the model key in a sidecar': [(o) => { tls(o).volumeMounts.push({ name: 'chat-llm', mountPath: '/etc/llm', readOnly: true }); }, /container redis-tls mounts the model key/],
    'a provider without a model': [(o) => { delete cfg(o).data.GW_CHAT_MODEL; }, /without GW_CHAT_MODEL/],
    'the model over plain HTTP': [(o) => { cfg(o).data.GW_CHAT_BASE_URL = 'http://llm.example/v1'; }, /https only/],
  };
})();

function mutationTest(env, objs, settings) {
  let bad = 0;
  const base = check([[env, objs]], settings);
  if (base.failed) { console.log(`not ok - the unmutated ${env} set fails: ${base.problems.slice(0, 3).join('; ')}`); bad++; }
  for (const [name, [mutate, expect]] of Object.entries(MUTATIONS)) {
    const o = structuredClone(objs);
    try { mutate(o); } catch (e) { console.log(`not ok - mutation "${name}" cannot be applied: ${e.message}`); bad++; continue; }
    const r = check([[env, o]], settings);
    const hit = r.problems.find((p) => expect.test(p));
    if (hit) console.log(`ok - rejects ${name}: ${hit.replace(/^\S+ /, '')}`);
    else { console.log(`not ok - accepts ${name}${r.problems.length ? ` (reported instead: ${r.problems[0]})` : ''}`); bad++; }
  }
  console.log(`${Object.keys(MUTATIONS).length + 1 - bad} passed, ${bad} failed`);
  return bad === 0;
}

const args = process.argv.slice(2);
if (args[0] === '--self-test') process.exit(selfTest() ? 0 : 1);
let settings = null, extract = null, mutations = false;
const sets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--settings') {
    settings = new Map(readFileSync(args[++i], 'utf8').split('\n').filter(Boolean).map((l) => {
      const [name, type = '', def = ''] = l.split('\t');
      return [name, { type: type.split(' ')[0], def: def === '(empty)' || def.startsWith('(secret') ? undefined : def }];
    }));
    continue;
  }
  if (args[i] === '--extract') { extract = args[++i]; continue; }
  if (args[i] === '--mutations') { mutations = true; continue; }
  const [env, file] = args[i].split('=');
  if (!EXPECT[env]) { console.error(`unknown environment ${env}`); process.exit(2); }
  sets.push([env, loadDocs(file)]);
}
if (mutations) process.exit(sets.every(([env, objs]) => mutationTest(env, objs, settings)) ? 0 : 1);
const { passed, failed, problems } = check(sets, settings, extract);
for (const p of problems) console.log(`not ok - ${p}`);
for (const [env, objs] of sets) console.log(`# ${env}: ${objs.length} objects`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
