import { userEntryProblem } from '../keys/admin-inputs.js';
import { AdminRefused } from '../keys/errors.js';
import type { AllowList } from '../keys/key-version.js';
import type { KeyStateStore, KeyVault } from '../keys/ports.js';
import type { CreatedVersion } from './key-admin-views.js';
import type { ImportOptions } from './key-import.js';
import { readPrivateKeyMaterial, readPublicModulus, type PrivateKeyMaterial } from './private-key-material.js';
import type { ReferenceKeyEntry, ReferenceSettings } from './reference-settings.js';

export interface MigrationStep {
  readonly entry: number;
  readonly name: string;
  readonly keyId: string;
  /** import: new in the HSM; unchanged: this name and id already hold the same key (a re-run). */
  readonly action: 'import' | 'unchanged';
  readonly published: boolean;
  readonly users: readonly string[];
  readonly rolesNotMigrated: readonly string[];
}

export interface MigrationReport {
  readonly dryRun: boolean;
  readonly steps: readonly MigrationStep[];
  /** DKE_ settings that carry the reference's JwtAudience, ValidIssuers and CacheExpirationInDays. */
  readonly settings: Readonly<Record<string, string>>;
  readonly notes: readonly string[];
}

/** The audited admin operations a migration is made of (KeyAdmin's own). */
export interface MigrationSteps {
  importKey(name: string, material: PrivateKeyMaterial, options: ImportOptions): Promise<CreatedVersion>;
  grant(name: string, kind: keyof AllowList, value: string): Promise<boolean>;
}

/**
 * The reference compares an address with whatever name the token carries; this service matches a user entry that is
 * not an object id only against the `upn` of a member of an allowed tenant (issue 18), so guests lose access.
 */
export const GUEST_NOTE =
  'AuthorizedEmailAddress entries were kept as UPN entries: each one allows the member of an allowed tenant whose upn it is. ' +
  'Guests (and users whose address differs from their UPN) are no longer matched by address: grant each their object id ' +
  '(dke keys grant NAME --user <oid>), or a group or app role.';

const V1_ISSUER = /^https:\/\/sts\.windows\.net\/([0-9a-f-]{36})\/$/i;
const V2_ISSUER = /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\/v2\.0$/i;

/**
 * `dke import-reference` (contract §3, issue 8): every TestKeys[] entry of Microsoft's reference service into the HSM
 * under the same Name and Id, so every `kid` already inside documents keeps decrypting. Everything is checked before
 * anything changes (each key readable, RSA-2048/65537, PublicPem matching PrivatePem, no name/id already holding a
 * DIFFERENT key); then entries are imported in the file's order, the first entry of a name published (the reference
 * serves it). A re-run finds every entry unchanged and changes nothing; `dryRun` only reports.
 */
export async function migrateReference(
  deps: { readonly store: KeyStateStore; readonly vault: KeyVault },
  apply: MigrationSteps,
  settings: ReferenceSettings,
  dryRun: boolean,
): Promise<MigrationReport> {
  const firstOfName = new Map<string, number>();
  for (const entry of settings.keys) if (!firstOfName.has(entry.name)) firstOfName.set(entry.name, entry.index);
  const seen = new Set<string>();
  const plan: { entry: ReferenceKeyEntry; present: boolean }[] = [];
  for (const entry of settings.keys) {
    const where = `TestKeys[${entry.index}] (${entry.name}/${entry.id})`;
    if (seen.has(`${entry.name}/${entry.id}`)) throw new AdminRefused(`${where} repeats a Name and Id already listed.`);
    seen.add(`${entry.name}/${entry.id}`);
    // Every email is checked as a grant would check it before anything is imported: a refusal half-way would leave
    // a key imported with nobody allowed to open its documents.
    for (const email of entry.emails) {
      const problem = userEntryProblem(email.toLowerCase());
      if (problem !== undefined) throw new AdminRefused(`${where}: ${problem} Nothing was imported.`);
    }
    const material = readPrivateKeyMaterial(entry.privatePem, where);
    material.wipe();
    if (entry.publicPem !== undefined && !readPublicModulus(entry.publicPem, `${where} PublicPem`).equals(material.publicKey.modulus)) {
      throw new AdminRefused(`${where}: PublicPem is not the public half of PrivatePem; nothing was imported.`);
    }
    const present = deps.store.findKey(entry.name)?.versions.some((v) => v.keyId === entry.id) ?? false;
    if (present) {
      const held = await deps.vault.publicKey({ name: entry.name, keyId: entry.id });
      if (!held.modulus.equals(material.publicKey.modulus)) {
        throw new AdminRefused(`${where}: ${entry.name}/${entry.id} already holds a DIFFERENT key in this service; nothing was imported.`);
      }
    }
    plan.push({ entry, present });
  }

  const steps: MigrationStep[] = [];
  for (const { entry, present } of plan) {
    const publish = !present && firstOfName.get(entry.name) === entry.index;
    const users = entry.emails.map((e) => e.toLowerCase());
    if (!dryRun && !present) {
      const material = readPrivateKeyMaterial(entry.privatePem, `TestKeys[${entry.index}]`);
      await apply.importKey(entry.name, material, {
        keyId: entry.id,
        publish,
        source: `reference appsettings TestKeys[${entry.index}]`,
      });
    }
    if (!dryRun) for (const user of users) await apply.grant(entry.name, 'users', user);
    steps.push({ entry: entry.index, name: entry.name, keyId: entry.id, action: present ? 'unchanged' : 'import', published: publish, users, rolesNotMigrated: entry.roles });
  }
  return { dryRun, steps, ...carriedSettings(settings) };
}

function carriedSettings(settings: ReferenceSettings): { settings: Record<string, string>; notes: string[] } {
  const out: Record<string, string> = {};
  const notes: string[] = [];
  if (settings.jwtAudience !== undefined) out.DKE_AUTH_AUDIENCE = settings.jwtAudience;
  const tenants = new Set<string>();
  const others: string[] = [];
  for (const issuer of settings.validIssuers) {
    const tid = V1_ISSUER.exec(issuer)?.[1] ?? V2_ISSUER.exec(issuer)?.[1];
    if (tid !== undefined) tenants.add(tid.toLowerCase());
    else others.push(issuer);
  }
  if (tenants.size > 0) out.DKE_AUTH_TENANT_IDS = [...tenants].join(',');
  if (others.length > 0) out.DKE_AUTH_ISSUERS = others.join(',');
  const days = new Set(settings.keys.map((k) => k.cacheExpirationInDays));
  const [only] = [...days];
  if (days.size === 1) out.DKE_PUBLIC_KEY_CACHE_HOURS = only === undefined ? '0' : String(only * 24);
  else notes.push('TestKeys use different CacheExpirationInDays; this service has one DKE_PUBLIC_KEY_CACHE_HOURS for all keys: choose one.');
  if (settings.keys.some((k) => k.emails.length > 0)) notes.push(GUEST_NOTE);
  const withRoles = settings.keys.filter((k) => k.roles.length > 0);
  if (withRoles.length > 0) {
    notes.push(
      `AuthorizedRoles of ${withRoles.map((k) => `${k.name}/${k.id}`).join(', ')} were NOT migrated: they name on-premises Active Directory groups read over LDAP. ` +
        'Grant Entra group object ids (dke keys grant NAME --group <objectId>, with the groups claim in the token) or app roles (--role) instead.',
    );
  }
  return { settings: out, notes };
}
