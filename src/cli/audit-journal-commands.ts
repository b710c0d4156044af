import { Command } from 'commander';
import { drainOutageJournal, outageJournalStatus, type JournalInspection } from '../main/outage-journal-admin.js';
import { print } from './output.js';

/**
 * `dke audit journal status|drain` (contract §5, issue 25): the local journal in which an instance keeps decrypt
 * entries while the database is unreachable. `status` shows what waits in a folder and who holds it; `drain` merges
 * a journal left by an instance that will not come back into the shared trail, exactly once.
 */
export function auditJournalCommand(): Command {
  const journal = new Command('journal').description('the local journal of decrypt entries kept while the database was unreachable (DKE_DATA_DIR)');
  journalVerb(journal, 'status', 'how many entries wait for the trail, the oldest and newest of them, and which process holds the journal', 'the folder of the journal (default: DKE_DATA_DIR)', async (dir, json) => {
    const status = await outageJournalStatus(dir);
    print(json, { ...status, lock: status.lock ?? null }, () => statusText(status));
  });
  journalVerb(journal, 'drain', 'merge the journal an instance left in DIR into the trail of DKE_DATABASE_URL, exactly once', 'the folder of the journal (the DKE_DATA_DIR of the instance that left it)', async (dir, json) => {
    const result = await drainOutageJournal(dir!);
    print(json, result, () => {
      const skipped = result.alreadyInTrail > 0 ? ` ${result.alreadyInTrail} were in the trail already and were not written again.` : '';
      if (result.merged === 0) return `Nothing was merged: the audit journal in ${result.directory} holds no entry that is not in the trail.${skipped}`;
      return `Merged ${result.merged} audit entries (decided from ${result.oldestAt} to ${result.newestAt}) from the journal in ${result.directory} into the trail; the journal is empty now.${skipped}`;
    });
  });
  return journal;
}

/** One verb of `dke audit journal`: `--data-dir` (required by `drain`, which must never guess a folder) and `--json`. */
function journalVerb(parent: Command, name: 'status' | 'drain', about: string, dataDirAbout: string, run: (dir: string | undefined, json: boolean) => Promise<void>): void {
  const verb = parent.command(name).description(about);
  if (name === 'drain') verb.requiredOption('--data-dir <dir>', dataDirAbout);
  else verb.option('--data-dir <dir>', dataDirAbout);
  // `--json` after the verb may be parsed by the parent `audit` command, which has the same option.
  verb.option('--json', 'print JSON').action((options: { dataDir?: string }, command: Command) => run(options.dataDir, command.optsWithGlobals().json === true));
}

function statusText(status: JournalInspection): string {
  const entries =
    status.entries === 0
      ? `The audit journal in ${status.directory} holds no entry waiting for the trail.`
      : `The audit journal in ${status.directory} holds ${status.entries} entries not yet in the trail, decided from ${status.oldestAt} to ${status.newestAt}.`;
  const lock = status.lock;
  if (lock === undefined) return `${entries}\nLock: none (no instance holds this journal).`;
  const holder = `process ${lock.pid}${lock.startedAt !== undefined ? ` (started ${lock.startedAt})` : ''}${lock.host !== undefined ? ` on ${lock.host}` : ''}`;
  const state = {
    running: `held by ${holder}, which is running${lock.startedAt === undefined ? ' (the lock records no start time: a reused pid would look the same, so it may be stale)' : ''}.`,
    gone: `stale: left by ${holder}, which is gone${lock.runningSince !== undefined ? ` (pid ${lock.pid} now belongs to a process started ${lock.runningSince})` : ''}; the next start or drain takes it over.`,
    unknown: `held by ${holder}, another host, which cannot be checked from here; it may be stale.`,
  }[lock.state];
  return `${entries}\nLock: ${state}`;
}
