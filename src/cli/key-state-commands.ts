import { Command } from 'commander';
import { appliedView, type ApprovalView, type ImpactPreview, type StateChangeOutcome } from '../app/key-admin-views.js';
import { AdminRefused, parseKeyState, SETTABLE_STATES, stateLabel, stateList } from '../app/admin-vocabulary.js';
import { withAdminHere } from './remote/remote-admin.js';
import { adminVerb } from './admin-verb.js';
import { EXIT_NEEDS_CONFIRMATION } from './exit-codes.js';
import { optionSpan } from './options.js';
import { print } from './output.js';

export function previewText(preview: ImpactPreview, command: string): string {
  const { usage } = preview;
  return [
    `Would change ${preview.name} version ${preview.keyId}: ${preview.effect}`,
    `Impact over the last ${preview.windowDays} days (from the audit trail): ${usage.decrypts} decrypt(s) by ${usage.distinctUsers} distinct user(s); last use: ${usage.lastUse ?? 'never'}.`,
    `Nothing was changed. To go ahead: ${command} --yes`,
  ].join('\n');
}

/** What a proposal under DKE_APPROVALS_REQUIRED=2 prints: nothing happened yet, and how another admin approves it. */
export function proposalText(approval: ApprovalView): string {
  return `Proposal ${approval.id} (${approval.operation}${approval.keyName ? ` ${approval.keyName}` : ''}${approval.keyId ? ` ${approval.keyId}` : ''}) waits for another admin until ${approval.expiresAt}: "dke approvals approve ${approval.id}". Nothing was changed yet.`;
}

function report(outcome: StateChangeOutcome, json: boolean, command: string): void {
  if (!outcome.applied && 'approval' in outcome) {
    print(json, { applied: false, approval: outcome.approval }, () => proposalText(outcome.approval));
    return;
  }
  if (!outcome.applied) {
    print(json, { applied: false, preview: outcome.preview }, () => previewText(outcome.preview, command));
    process.exitCode = EXIT_NEEDS_CONFIRMATION;
    return;
  }
  const physical =
    outcome.decryptClearedInToken === undefined
      ? ''
      : outcome.decryptClearedInToken
        ? ' CKA_DECRYPT is now cleared in the token too.'
        : ' The token would not clear CKA_DECRYPT; the state alone blocks decrypts.';
  const destroyed = outcome.objectsDestroyed === undefined ? '' : outcome.objectsDestroyed ? ' The HSM objects are destroyed.' : ' No HSM object was left to destroy.';
  if (outcome.deletion !== undefined) {
    const { name, keyId } = outcome.version;
    print(json, appliedView(outcome), () =>
      `${name} version ${keyId} stops decrypting and being published now; its HSM objects are destroyed at ${outcome.deletion!.destroyAt} (DKE_DELETION_WINDOW). Until then "dke keys cancel-deletion ${name} ${keyId}" brings it back as it was.`,
    );
    return;
  }
  print(json, appliedView(outcome), () =>
    `${outcome.version.name} version ${outcome.version.keyId} is now ${stateLabel(outcome.version.state)}.${physical}${destroyed}${outcome.version.notice ? `\n${outcome.version.notice}` : ''}`,
  );
}

/** `dke keys set-state`, `dke keys delete`, `dke keys attest` (contract §3, §4). */
export function addKeyStateCommands(keys: Command): void {
  keys
    .command('set-state')
    .description('move a version through the NIST SP 800-57 states (permanent steps need --yes)')
    .argument('<name>')
    .argument('<keyId>')
    .argument('<state>', stateList(SETTABLE_STATES))
    .option('--yes', 'confirm a permanent step')
    .option('--json', 'print JSON')
    .action(async (name: string, keyId: string, stateText: string, options) => {
      const state = parseKeyState(stateText);
      if (state === undefined) throw new AdminRefused(`"${stateText}" is not a key state; use ${stateList(SETTABLE_STATES)}.`);
      const outcome = await withAdminHere(true, ({ admin }) => admin.setState(name, keyId, state, options.yes === true));
      report(outcome, options.json === true, `dke keys set-state ${name} ${keyId} ${state}`);
    });

  keys
    .command('delete')
    .description('schedule the destruction of a Pre-Active or Active version (the admin policy\'s deletion window; 0: at once); the record stays as Destroyed (needs --yes)')
    .argument('<name>')
    .argument('<keyId>')
    .option('--window <span>', 'wait this long instead of the policy\'s default deletion window (not shorter than its minimum), such as 30d')
    .option('--yes', 'confirm: documents protected with this version can never be opened again')
    .option('--json', 'print JSON')
    .action(async (name: string, keyId: string, options) => {
      const windowMs = options.window === undefined ? undefined : optionSpan(String(options.window), '--window');
      const outcome = await withAdminHere(true, ({ admin }) => admin.delete(name, keyId, options.yes === true, windowMs));
      report(outcome, options.json === true, `dke keys delete ${name} ${keyId}`);
    });

  adminVerb(
    keys
      .command('cancel-deletion')
      .description('take back a delete whose deletion window has not ended: the version is exactly as it was before')
      .argument('<name>')
      .argument('<keyId>'),
    {
      run: (admin, [name, keyId]) => admin.cancelDeletion(name, keyId),
      text: (version, [name, keyId]) =>
        `${name} version ${keyId} is no longer scheduled for destruction; it is ${stateLabel(version.state)} and ${version.enabled ? 'enabled' : 'disabled'}, as before the delete.`,
    },
  );

  keys
    .command('rotation')
    .description('scheduled rotation: a new published version whenever the newest Active one is older than the period')
    .argument('<name>')
    .option('--every <span>', 'period, such as 90d or 30d (at least 1d)')
    .option('--off', 'no scheduled rotation')
    .option('--json', 'print JSON')
    .action(async (name: string, options) => {
      if ((options.every === undefined) === (options.off !== true)) throw new AdminRefused('Give exactly one of --every SPAN or --off.');
      const view = await withAdminHere(false, ({ admin }) => admin.setRotation(name, options.off === true ? undefined : (options.every as string)));
      print(options.json === true, view, () => (view.rotation ? `${name} is rotated every ${view.rotation.every} (the service's scheduler does it, as "scheduler").` : `${name} has no scheduled rotation.`));
    });

  keys
    .command('attest')
    .description('PKCS#11 evidence of every version, read from the token itself, with a provenance verdict')
    .argument('<name>')
    .argument('[keyId]')
    .option('--json', 'print JSON')
    .action(async (name: string, keyId: string | undefined, options) => {
      const attestation = await withAdminHere(true, ({ admin }) => admin.attest(name, keyId));
      print(options.json === true, attestation, () =>
        attestation.versions
          .map((v) =>
            [
              `${name} version ${v.keyId} (${stateLabel(v.state)}, ${v.origin}): ${v.verdict}`,
              `  sensitive=${v.sensitive} alwaysSensitive=${v.alwaysSensitive} extractable=${v.extractable} neverExtractable=${v.neverExtractable} local=${v.local} modulusBits=${v.modulusBits}`,
              `  operations allowed by the token: ${v.operations.join(', ') || 'none'}${v.decryptClearedInToken === null ? '' : v.decryptClearedInToken ? ' (CKA_DECRYPT cleared)' : ' (the token kept CKA_DECRYPT; the state blocks decrypts)'}`,
            ].join('\n'),
          )
          .join('\n'),
      );
    });
}
