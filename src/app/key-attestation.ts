import type { KeyOrigin, KeyState, KeyVersion } from '../keys/key-version.js';
import { clearsDecryptInToken } from '../keys/lifecycle.js';
import type { KeyEvidence } from '../keys/ports.js';

/**
 * What the evidence proves about where a private key has been:
 * - hsm-born-never-extractable: generated in the token (our record) and the token says it was always sensitive and
 *   never extractable;
 * - imported-non-extractable: brought in by `dke keys import`, sensitive and not extractable since;
 * - exportable: the token says it is or was extractable or not sensitive: it could have left the HSM;
 * - unknown: the token would not answer an attribute the verdict needs;
 * - destroyed: the objects are gone (the record stays for audit).
 */
export type ProvenanceVerdict = 'hsm-born-never-extractable' | 'imported-non-extractable' | 'exportable' | 'unknown' | 'destroyed';

export interface VersionAttestation {
  readonly keyId: string;
  readonly state: KeyState;
  readonly origin: KeyOrigin;
  readonly sensitive: boolean | null;
  readonly alwaysSensitive: boolean | null;
  readonly extractable: boolean | null;
  readonly neverExtractable: boolean | null;
  /** As the token reports it. NSS softoken says false even for keys it generated: never corrected here. */
  readonly local: boolean | null;
  readonly modulusBits: number | null;
  readonly operations: readonly string[];
  /** For Deactivated and Compromised versions: whether CKA_DECRYPT is cleared in the token itself. */
  readonly decryptClearedInToken: boolean | null;
  readonly verdict: ProvenanceVerdict;
}

/** The verdict from the token's evidence and our record of the key's origin (contract §3 `attest`). */
export function provenanceVerdict(origin: KeyOrigin, evidence: KeyEvidence): ProvenanceVerdict {
  if (evidence.extractable === true || evidence.sensitive === false) return 'exportable';
  if (evidence.extractable === undefined || evidence.sensitive === undefined) return 'unknown';
  if (origin === 'imported') return 'imported-non-extractable';
  if (evidence.neverExtractable === false || evidence.alwaysSensitive === false) return 'exportable';
  if (evidence.neverExtractable === undefined || evidence.alwaysSensitive === undefined) return 'unknown';
  return 'hsm-born-never-extractable';
}

export function attestationOf(version: KeyVersion, evidence: KeyEvidence | undefined): VersionAttestation {
  const blocked = clearsDecryptInToken(version.state);
  return {
    keyId: version.keyId,
    state: version.state,
    origin: version.origin,
    sensitive: evidence?.sensitive ?? null,
    alwaysSensitive: evidence?.alwaysSensitive ?? null,
    extractable: evidence?.extractable ?? null,
    neverExtractable: evidence?.neverExtractable ?? null,
    local: evidence?.local ?? null,
    modulusBits: evidence?.modulusBits ?? null,
    operations: evidence?.operations ?? [],
    decryptClearedInToken: blocked && evidence !== undefined ? !evidence.operations.includes('decrypt') : null,
    verdict: evidence === undefined ? 'destroyed' : provenanceVerdict(version.origin, evidence),
  };
}
