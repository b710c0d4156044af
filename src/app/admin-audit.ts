import { AdminRefused, type StepRefusal } from '../keys/errors.js';
import type { AuditEvent, AuditTrail, StoreTransaction } from '../keys/ports.js';

type Append = (event: AuditEvent) => Promise<void>;

/**
 * The one way an admin operation writes its audit entry: who (the actor), what, on which key and version, and
 * whether it succeeded or was refused (with the sentence the operator saw). Every operation of KeyAdmin goes through
 * it: on its own (a refusal, a read), or `within` the store transaction that makes the change, so both commit or neither.
 */
export class AdminAudit {
  readonly #append: Append;
  readonly actor: string;

  constructor(trail: AuditTrail | { readonly append: Append }, actor: string) {
    this.#append = (event) => trail.append(event);
    this.actor = actor;
  }

  /** The same actor, writing inside a store transaction (its entries commit with the change). */
  within(tx: StoreTransaction): AdminAudit {
    return new AdminAudit({ append: (event) => tx.audit(event) }, this.actor);
  }

  /** Records an admin action that succeeded. */
  succeeded(action: string, name: string | undefined, keyId: string | undefined, details?: AuditEvent['details']): Promise<void> {
    return this.#write(action, name, keyId, 'succeeded', undefined, details);
  }

  /** Records an admin action that was refused or failed, with the reason the operator saw. */
  refused(action: string, name: string | undefined, keyId: string | undefined, reason: string, details?: AuditEvent['details']): Promise<void> {
    return this.#write(action, name, keyId, 'refused', reason, details);
  }

  /**
   * Records the refusal and gives the error to throw (`throw await audit.refusal(…)`). `why` is its sentence, or its
   * reason and next step, which each front end words its own way (the entry keeps the plain words of
   * keys/errors.ts). `Refusal` says what kind it is (the admin API answers AdminConflict with 409 and AdminNotFound
   * with 404; the CLI exits 2 for all of them).
   */
  async refusal(
    action: string,
    name: string | undefined,
    why: string | StepRefusal,
    keyId?: string,
    Refusal: new (why: string | StepRefusal) => AdminRefused = AdminRefused,
  ): Promise<AdminRefused> {
    const refusal = new Refusal(why);
    await this.refused(action, name, keyId, refusal.message);
    return refusal;
  }

  #write(action: string, name: string | undefined, keyId: string | undefined, outcome: 'succeeded' | 'refused', reason: string | undefined, details: AuditEvent['details']): Promise<void> {
    return this.#append({
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
