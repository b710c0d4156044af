import { AdminRefused } from '../keys/errors.js';
import type { AuditEvent, AuditTrail } from '../keys/ports.js';

/**
 * The one way an admin operation writes its audit entry: who (the actor), what, on which key and version, and
 * whether it succeeded or was refused (with the sentence the operator saw). Every operation of KeyAdmin goes through it.
 */
export class AdminAudit {
  readonly #trail: AuditTrail;
  readonly actor: string;

  constructor(trail: AuditTrail, actor: string) {
    this.#trail = trail;
    this.actor = actor;
  }

  /** Records an admin action that succeeded. */
  succeeded(action: string, name: string | undefined, keyId: string | undefined, details?: AuditEvent['details']): void {
    this.#append(action, name, keyId, 'succeeded', undefined, details);
  }

  /** Records an admin action that was refused or failed, with the reason the operator saw. */
  refused(action: string, name: string | undefined, keyId: string | undefined, reason: string, details?: AuditEvent['details']): void {
    this.#append(action, name, keyId, 'refused', reason, details);
  }

  /**
   * Records the refusal and throws it with the sentence the operator sees. `Refusal` says what kind it is (the admin
   * API answers AdminConflict with 409 and AdminNotFound with 404; the CLI exits 2 for all of them).
   */
  refuse(action: string, name: string | undefined, sentence: string, keyId?: string, Refusal: new (message: string) => AdminRefused = AdminRefused): never {
    this.refused(action, name, keyId, sentence);
    throw new Refusal(sentence);
  }

  #append(action: string, name: string | undefined, keyId: string | undefined, outcome: 'succeeded' | 'refused', reason: string | undefined, details: AuditEvent['details']): void {
    this.#trail.append({
      actor: this.actor,
      action,
      ...(name !== undefined ? { keyName: name } : {}),
      ...(keyId !== undefined ? { keyId } : {}),
      outcome,
      ...(reason !== undefined ? { reason } : {}),
      ...(details !== undefined ? { details } : {}),
    });
  }
}
