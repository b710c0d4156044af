/**
 * Key names and ids appear in URLs that live inside protected documents for years (contract §1), so they are
 * limited to characters that need no escaping. Both are case-sensitive.
 */
const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;

/** Names that would shadow the service's own routes; compared case-insensitively because routing is. */
const RESERVED_NAMES = ['health', 'metrics'];

export function isValidKeyName(name: string): boolean {
  return KEY_NAME_PATTERN.test(name);
}

export function isValidKeyId(keyId: string): boolean {
  return KEY_ID_PATTERN.test(keyId);
}

/** Why a name cannot be created, or undefined when it can. */
export function keyNameProblem(name: string): string | undefined {
  if (!isValidKeyName(name)) {
    return `The key name "${name.slice(0, 140)}" must be 1 to 128 letters, digits, ".", "_", "~" or "-", starting with a letter or digit.`;
  }
  if (RESERVED_NAMES.includes(name.toLowerCase())) return `The key name "${name}" is reserved for a route of the service.`;
  return undefined;
}

export function keyIdProblem(keyId: string): string | undefined {
  return isValidKeyId(keyId)
    ? undefined
    : `The key id "${keyId.slice(0, 140)}" must be 1 to 128 letters, digits, ".", "_", "~" or "-", starting with a letter or digit.`;
}

/**
 * The `kid` of a key version: `{base}/{keyName}/{keyId}`; Office appends `/decrypt` to it. Breaks Office if changed.
 */
export function buildKid(baseUrl: string, name: string, keyId: string): string {
  return `${baseUrl}/${name}/${keyId}`;
}
