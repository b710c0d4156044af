import type { Pkcs11Config } from './pkcs11-settings.js';
import { classifyCkr, ckrCode, ckrName } from './ckr-classes.js';
import { HsmConfigurationError, HsmUnavailable } from '../keys/errors.js';
import { CKR_NSS_CERTDB_FAILED, CKR_NSS_KEYDB_FAILED, missingNssDirectory } from './nss-database.js';
import { pkcs11, type Handle, type Pkcs11Module } from './pkcs11.js';

/**
 * One PKCS#11 module, initialised once per process, and the token that holds the keys, logged in once.
 * Handles stay private fields so that logging this object never dumps them.
 */
export class Pkcs11Token {
  readonly #config: Pkcs11Config;
  readonly #newModule: () => Pkcs11Module;
  #module: Pkcs11Module | undefined;
  #slot: Handle | undefined;
  #tokenInfo: { label: string; maxSessionCount: number } | undefined;

  /** `newModule` is the seam where tests put a fault-injecting wrapper around the real pkcs11js module. */
  constructor(config: Pkcs11Config, newModule: () => Pkcs11Module = () => new pkcs11.PKCS11()) {
    this.#config = config;
    this.#newModule = newModule;
  }

  get module(): Pkcs11Module {
    if (this.#module === undefined) throw new HsmUnavailable('the PKCS#11 module is not open');
    return this.#module;
  }

  get isOpen(): boolean {
    return this.#module !== undefined;
  }

  /** The token's own limit on sessions (0 when it states none). */
  get maxSessionCount(): number {
    return this.#tokenInfo?.maxSessionCount ?? 0;
  }

  get label(): string {
    return this.#tokenInfo?.label ?? '';
  }

  /** Loads the module, initialises it with OS locking (several async operations run at once) and finds the token. */
  open(): void {
    if (this.#module !== undefined) return;
    const module = this.#newModule();
    try {
      module.load(this.#config.library);
    } catch (error) {
      throw new HsmConfigurationError(
        `The PKCS#11 module ${this.#config.library} cannot be loaded (${error instanceof Error ? error.message : 'unknown error'}).`,
      );
    }
    try {
      module.C_Initialize({
        flags: pkcs11.CKF_OS_LOCKING_OK,
        ...(this.#config.libraryParameters !== undefined ? { libraryParameters: this.#config.libraryParameters } : {}),
      });
    } catch (error) {
      const code = ckrCode(error);
      if (code !== pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        keepLoaded(module);
        const missingDirectory = code === CKR_NSS_CERTDB_FAILED || code === CKR_NSS_KEYDB_FAILED ? missingNssDirectory(this.#config.libraryParameters) : undefined;
        throw new HsmConfigurationError(missingDirectory ?? `C_Initialize of ${this.#config.library} failed with ${ckrName(error)}.`);
      }
    }
    this.#module = module;
    try {
      this.#slot = this.#findSlot(module);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** The token's slot (the probe reads the token's information and mechanisms from it). */
  get slot(): Handle {
    if (this.#slot === undefined) throw new HsmUnavailable('the PKCS#11 module is not open');
    return this.#slot;
  }

  /** Opens a read-write session on the token. */
  openSession(): Handle {
    return this.module.C_OpenSession(this.#slot!, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
  }

  closeSession(session: Handle): void {
    try {
      this.module.C_CloseSession(session);
    } catch {
      // The session may already be gone with the device; nothing to release then.
    }
  }

  /** Closes every session of this application on the token (what a token reset does to us). */
  closeAllSessions(): void {
    this.module.C_CloseAllSessions(this.#slot!);
  }

  /**
   * Logs the user in. A login holds for every session of the application (PKCS#11 §5.6), so this runs once per
   * (re)connection. A wrong PIN is a configuration error and is never tried again by the service.
   */
  login(session: Handle): void {
    const pin = this.#config.pin;
    if (pin === undefined) {
      const pinFile = this.#config.pinFile;
      throw new HsmConfigurationError(
        pinFile === undefined
          ? 'No PIN is configured: set DKE_PKCS11_PIN or DKE_PKCS11_PIN_FILE.'
          : `The PIN file ${pinFile} (DKE_PKCS11_PIN_FILE) does not exist.`,
      );
    }
    try {
      this.module.C_Login(session, pkcs11.CKU_USER, pin.reveal());
    } catch (error) {
      const code = ckrCode(error);
      if (code === pkcs11.CKR_USER_ALREADY_LOGGED_IN) return;
      const missingDirectory = code === pkcs11.CKR_USER_TYPE_INVALID ? missingNssDirectory(this.#config.libraryParameters) : undefined;
      if (missingDirectory !== undefined) throw new HsmConfigurationError(missingDirectory);
      if (classifyCkr(error) === 'configuration') {
        throw new HsmConfigurationError(
          `The token refused the PIN (${ckrName(error)}); check DKE_PKCS11_PIN or DKE_PKCS11_PIN_FILE. The service does not retry a refused PIN.`,
        );
      }
      throw error;
    }
  }

  /** Finalises the module; every session and handle of this process becomes invalid. */
  close(): void {
    const module = this.#module;
    this.#module = undefined;
    this.#slot = undefined;
    if (module === undefined) return;
    try {
      module.C_Finalize();
    } catch {
      // Already finalised or the device is gone: nothing left to release.
    }
    keepLoaded(module);
  }

  #findSlot(module: Pkcs11Module): Handle {
    const slots = module.C_GetSlotList(true);
    const { tokenLabel, slotIndex } = this.#config;
    if (slotIndex !== undefined) {
      const slot = slots[slotIndex];
      if (slot === undefined) {
        throw new HsmConfigurationError(`DKE_PKCS11_SLOT=${slotIndex} but the module has ${slots.length} slot(s) with a token.`);
      }
      this.#readTokenInfo(module, slot);
      return slot;
    }
    const labels: string[] = [];
    for (const slot of slots) {
      const info = module.C_GetTokenInfo(slot);
      const label = info.label.trim();
      labels.push(label);
      if (label === tokenLabel) {
        this.#tokenInfo = { label, maxSessionCount: info.maxSessionCount };
        return slot;
      }
    }
    throw new HsmConfigurationError(
      `No token labelled "${tokenLabel ?? ''}" was found; the module offers: ${labels.map((l) => `"${l}"`).join(', ') || 'none'}.`,
    );
  }

  #readTokenInfo(module: Pkcs11Module, slot: Handle): void {
    const info = module.C_GetTokenInfo(slot);
    this.#tokenInfo = { label: info.label.trim(), maxSessionCount: info.maxSessionCount };
  }
}

/**
 * Modules this process has finalised, kept referenced so that neither close() nor the garbage collector unloads the
 * library (pkcs11js dlcloses it in both). A library is loaded once per process and stays: a native call still
 * running on another thread (a pkcs11js async call, a decrypt thread) would otherwise jump into unmapped code and
 * take the process down, and token libraries (NSS softoken) are not written to be unloaded and loaded again.
 */
const finalisedModules = new Set<Pkcs11Module>();

function keepLoaded(module: Pkcs11Module): void {
  finalisedModules.add(module);
}
