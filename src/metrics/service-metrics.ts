import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HsmErrorClass, HttpObserver, MetricsExposition, ProtocolObserver, SessionPoolStats } from '../keys/ports.js';

/** Seconds; DKE decrypt SLOs are quoted at 10–30 ms p95 (issue 5), so the buckets are fine below 100 ms. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Prometheus metrics of the service (issue 7), on a registry of its own. Labels carry key names only for keys that
 * exist and outcomes from a fixed set, never user names, tokens or key ids, so callers cannot grow the series.
 */
/** One vault as its gauges read it. */
export interface VaultGaugeReading {
  readonly vault: string;
  readonly up: boolean;
  readonly pool: SessionPoolStats;
}

export class ServiceMetrics implements ProtocolObserver, HttpObserver, MetricsExposition {
  readonly registry = new Registry();
  readonly #decrypts = new Counter({ name: 'dke_decrypts_total', help: 'Decrypt requests by key name and outcome', labelNames: ['key', 'outcome'] as const, registers: [this.registry] });
  readonly #decryptSeconds = new Histogram({ name: 'dke_decrypt_duration_seconds', help: 'Decrypt time in the service, HSM included', labelNames: ['outcome'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #hsmDecryptSeconds = new Histogram({ name: 'dke_hsm_decrypt_duration_seconds', help: 'Time in the HSM per decrypt: waiting for a session, then C_DecryptInit and C_Decrypt', labelNames: ['outcome'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly #publicKeys = new Counter({ name: 'dke_public_key_requests_total', help: 'GET /{keyName} requests by key name and outcome', labelNames: ['key', 'outcome'] as const, registers: [this.registry] });
  readonly #hsmErrors = new Counter({ name: 'dke_hsm_errors_total', help: 'PKCS#11 errors by class (request, transient, configuration, unknown)', labelNames: ['class'] as const, registers: [this.registry] });
  readonly #vaultErrors = new Counter({ name: 'dke_vault_errors_total', help: 'PKCS#11 errors by vault and class', labelNames: ['vault', 'class'] as const, registers: [this.registry] });
  readonly #jwksRefreshes = new Counter({ name: 'dke_jwks_refreshes_total', help: 'Refreshes of the token issuer keys by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly #httpSeconds = new Histogram({ name: 'dke_http_request_duration_seconds', help: 'HTTP requests by route and status class', labelNames: ['route', 'status'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });

  // prom-client validates and hashes a label object on every call; the hot paths keep each label set's child instead.
  readonly #decryptChild = children((key: string, outcome: string) => this.#decrypts.labels({ key, outcome }));
  readonly #decryptSecondsChild = children((outcome: string) => this.#decryptSeconds.labels({ outcome }));
  readonly #hsmDecryptChild = children((outcome: string) => this.#hsmDecryptSeconds.labels({ outcome }));
  readonly #publicKeyChild = children((key: string, outcome: string) => this.#publicKeys.labels({ key, outcome }));
  readonly #httpChild = children((route: string, status: string) => this.#httpSeconds.labels({ route, status }));

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Pool gauges read the pool when scraped, so they cost nothing per request. */
  watchPool(pool: () => SessionPoolStats): void {
    const gauge = (name: string, help: string, read: (p: SessionPoolStats) => number): void => {
      new Gauge({ name, help, registers: [this.registry], collect() { this.set(read(pool())); } });
    };
    gauge('dke_hsm_sessions', 'HSM sessions in the pool', (p) => p.size);
    gauge('dke_hsm_sessions_in_use', 'HSM sessions running an operation', (p) => p.inUse);
    gauge('dke_hsm_session_waiters', 'Requests waiting for a free HSM session', (p) => p.waiting);
  }

  /** Decrypt entries waiting in the local outage journal for the database (contract §5), read when scraped. */
  watchOutageJournal(journal: () => { readonly undrained: number }): void {
    new Gauge({
      name: 'dke_audit_journal_entries',
      help: 'Decrypt audit entries in the local outage journal (DKE_DATA_DIR) not yet in the audit trail',
      registers: [this.registry],
      collect() {
        this.set(journal().undrained);
      },
    });
  }

  /**
   * Per vault (contract §9), read when scraped: whether its token answers (1) or not (0), and its pool. The
   * dke_hsm_sessions gauges above stay the totals over every vault.
   */
  watchVaults(vaults: () => readonly VaultGaugeReading[]): void {
    const gauge = (name: string, help: string, read: (v: VaultGaugeReading) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['vault'] as const,
        registers: [this.registry],
        collect() {
          for (const reading of vaults()) this.set({ vault: reading.vault }, read(reading));
        },
      });
    };
    gauge('dke_vault_up', 'Whether the token of the vault answers (1) or not (0)', (v) => (v.up ? 1 : 0));
    gauge('dke_vault_sessions', 'HSM sessions in the vault\'s pool', (v) => v.pool.size);
    gauge('dke_vault_sessions_in_use', 'HSM sessions of the vault running an operation', (v) => v.pool.inUse);
  }

  /** A PKCS#11 error of one vault's token, by class: counted in total (dke_hsm_errors_total) and for its vault. */
  vaultError(vault: string, errorClass: HsmErrorClass): void {
    this.#hsmErrors.inc({ class: errorClass });
    this.#vaultErrors.inc({ vault, class: errorClass });
  }

  decrypt(keyName: string | undefined, outcome: string, seconds: number): void {
    this.#decryptChild(keyName ?? '', outcome).inc();
    this.#decryptSecondsChild(outcome).observe(seconds);
  }

  hsmDecrypt(outcome: 'ok' | 'error', seconds: number): void {
    this.#hsmDecryptChild(outcome).observe(seconds);
  }

  publicKey(keyName: string | undefined, outcome: string): void {
    this.#publicKeyChild(keyName ?? '', outcome).inc();
  }

  hsmError(errorClass: HsmErrorClass): void {
    this.#hsmErrors.inc({ class: errorClass });
  }

  jwksRefresh(ok: boolean): void {
    this.#jwksRefreshes.inc({ result: ok ? 'ok' : 'failed' });
  }

  /** Route patterns (not paths) keep the label set small. */
  httpRequest(route: string, status: number, seconds: number): void {
    this.#httpChild(route, `${Math.floor(status / 100)}xx`).observe(seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * The child of each label set, made on first use and kept. The label sets are bounded already (existing key names,
 * fixed outcomes, route patterns), so this map is too.
 */
function children<A extends string[], T>(make: (...labels: A) => T): (...labels: A) => T {
  const made = new Map<string, T>();
  return (...labels) => {
    const key = labels.join('\u0000');
    let child = made.get(key);
    if (child === undefined) {
      child = make(...labels);
      made.set(key, child);
    }
    return child;
  };
}
