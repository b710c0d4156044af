/**
 * The composition root's test seams, for crash windows no production setting may open (issue 17). Production never
 * sets them: src/cli.ts installs none and no configuration reaches them; only a test build's own entry point
 * (test/support/cli-with-faults.ts) installs them before the `dke` program runs.
 */
export interface TestSeams {
  /**
   * Awaited after each step of an admin operation that touches the token (a test kills the process there, or holds
   * it while it stops the database).
   */
  readonly afterAdminStep?: (step: string) => void | Promise<void>;
  /** The intents' lease (issue 25), shorter than production's so a killed command's step is taken over at once. */
  readonly intentLeaseMs?: number;
  /** This process as the holder of its intents, as a command on another host would name itself (issue 25). */
  readonly owner?: string;
}

let installed: TestSeams = {};

/** Installs the seams for every command and service this process opens from now on. */
export function installTestSeams(seams: TestSeams): void {
  installed = seams;
}

/** The seams installed in this process ({} in production). */
export function installedTestSeams(): TestSeams {
  return installed;
}
