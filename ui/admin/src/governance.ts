// The governance rule model as the admin API returns it (docs/governance.md): exposure rules and
// policies select principals (roles, clients, subjects, tenants) and tools (tools, bundles,
// tags, risk); plus the pure helpers the pages use to describe and build them.

export type Selector = 'roles' | 'clients' | 'subjects' | 'tenants' | 'tools' | 'bundles' | 'tags' | 'risk';
export const PRINCIPAL_SELECTORS: Selector[] = ['roles', 'clients', 'subjects', 'tenants'];
export const TOOL_SELECTORS: Selector[] = ['tools', 'bundles', 'tags', 'risk'];

export interface Rule {
  id: string;
  description?: string;
  effect: 'allow' | 'deny' | 'confirm';
  roles?: string[];
  clients?: string[];
  subjects?: string[];
  tenants?: string[];
  tools?: string[];
  bundles?: string[];
  tags?: string[];
  risk?: string[];
  when?: unknown;
  reason?: string;
  hint?: string;
  mode?: 'enforce' | 'dry_run';
  source?: 'file' | 'database';
}

export interface RoleDef { name: string; max_risk: string; description?: string; source?: 'file' | 'database' }

const LABEL: Record<Selector, [string, string]> = {
  roles: ['role', 'roles'],
  clients: ['client app', 'client apps'],
  subjects: ['user', 'users'],
  tenants: ['tenant', 'tenants'],
  tools: ['tool', 'tools'],
  bundles: ['product', 'products'],
  tags: ['tag', 'tags'],
  risk: ['risk', 'risk'],
};

/** One selector group as words: "roles dealer, analyst". */
export function selectorText(sel: Selector, values: string[]): string {
  return `${LABEL[sel][values.length === 1 ? 0 : 1]} ${values.join(', ')}`;
}

/** The selectors of one side of a rule; an empty list means "anyone" / "every tool". */
export function selectors(r: Rule, which: Selector[]): Array<{ sel: Selector; values: string[] }> {
  return which.filter((s) => (r[s] as string[] | undefined)?.length).map((s) => ({ sel: s, values: r[s] as string[] }));
}

/** "a, b ,, c" -> ["a", "b", "c"] */
export function splitList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}

/** A rule id from free text: lower case, letters, digits and - _ . : only (what the API accepts). */
export function ruleId(s: string): string {
  return s.toLowerCase().trim().replace(/[^a-z0-9_.:-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
}

/** The body of a new rule from the add-rule form. `who` and `what` of "" mean anyone / all tools. */
export function buildRule(f: { id: string; effect: Rule['effect']; who: Selector | ''; whoValues: string; what: Selector | ''; whatValues: string; dryRun: boolean; description?: string }): Rule {
  const r: Rule = { id: ruleId(f.id), effect: f.effect };
  if (f.description?.trim()) r.description = f.description.trim();
  if (f.who) (r as unknown as Record<string, string[]>)[f.who] = splitList(f.whoValues);
  if (f.what) (r as unknown as Record<string, string[]>)[f.what] = splitList(f.whatValues);
  if (f.dryRun) r.mode = 'dry_run';
  return r;
}
