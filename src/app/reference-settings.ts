import { AdminRefused } from '../keys/errors.js';

/** One `TestKeys[]` entry of Microsoft's reference service appsettings.json, as far as migration needs it. */
export interface ReferenceKeyEntry {
  readonly index: number;
  readonly name: string;
  readonly id: string;
  readonly privatePem: string;
  readonly publicPem: string | undefined;
  readonly emails: readonly string[];
  readonly roles: readonly string[];
  readonly cacheExpirationInDays: number | undefined;
}

export interface ReferenceSettings {
  readonly keys: readonly ReferenceKeyEntry[];
  readonly validIssuers: readonly string[];
  readonly jwtAudience: string | undefined;
}

/**
 * Reads the reference's appsettings.json (`TestKeys[]` with `Name`, `Id`, `PrivatePem`, `PublicPem`,
 * `AuthorizedEmailAddress`, `AuthorizedRoles`, `CacheExpirationInDays`; `AzureAd.TokenValidationParameters.ValidIssuers`;
 * `JwtAudience`). .NET accepts comments in it, so they are removed first. Sentences never quote key material.
 */
export function parseReferenceSettings(text: string): ReferenceSettings {
  let root: unknown;
  try {
    root = JSON.parse(stripJsonComments(text));
  } catch {
    throw new AdminRefused('The file is not valid JSON (appsettings.json of the reference service expected).');
  }
  const settings = asObject(root, 'the file');
  const testKeys = settings.TestKeys;
  if (!Array.isArray(testKeys) || testKeys.length === 0) throw new AdminRefused('The file has no TestKeys entries to migrate.');
  const keys = testKeys.map((raw, index) => {
    const entry = asObject(raw, `TestKeys[${index}]`);
    const name = requiredString(entry.Name, `TestKeys[${index}].Name`);
    const id = requiredString(entry.Id, `TestKeys[${index}].Id`);
    const cache = entry.CacheExpirationInDays;
    return {
      index,
      name,
      id,
      privatePem: requiredString(entry.PrivatePem, `TestKeys[${index}].PrivatePem (${name}/${id})`),
      publicPem: typeof entry.PublicPem === 'string' && entry.PublicPem.trim() !== '' ? entry.PublicPem : undefined,
      emails: stringList(entry.AuthorizedEmailAddress),
      roles: stringList(entry.AuthorizedRoles),
      cacheExpirationInDays: cache === undefined || cache === null ? undefined : Number(cache),
    };
  });
  const azureAd = typeof settings.AzureAd === 'object' && settings.AzureAd !== null ? (settings.AzureAd as Record<string, unknown>) : {};
  const validation = typeof azureAd.TokenValidationParameters === 'object' && azureAd.TokenValidationParameters !== null
    ? (azureAd.TokenValidationParameters as Record<string, unknown>)
    : {};
  return {
    keys,
    validIssuers: stringList(validation.ValidIssuers),
    jwtAudience: typeof settings.JwtAudience === 'string' ? settings.JwtAudience : undefined,
  };
}

/** Removes // and /* *\/ comments outside strings (appsettings.json allows them). */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return out;
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AdminRefused(`${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function requiredString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new AdminRefused(`${what} is missing.`);
  return value.trim();
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim()) : [];
}
