import { useState } from 'preact/hooks';
import { api } from './api';
import { PROPOSED_LINE, waitsForApproval } from './impact';
import { ConfirmDialog, Time, type ConfirmRequest } from './ui';
import type { AdminPolicyView, EmergencyBlockView, Proposed } from './vocabulary';

interface BlockProps {
  readonly block: EmergencyBlockView | undefined;
  readonly canChange: boolean;
  readonly policy: AdminPolicyView | undefined;
  /** Reloads the switch (the banner of every page) after a change. */
  readonly onChanged: () => void;
}

/** What lifting the block does, for the admin who lifts (or proposes lifting) it and for the approver. */
export const LIFT_LINE = "Each version's own state and Enabled flag apply again from the next request: the keys that were serving decrypt and are published again.";

/**
 * A button that turns the switch on or off after a confirmation, and says what was done: applied, or proposed for a
 * second admin (lifting, when approvals are required).
 */
function SwitchButton({ on, label, lines, danger, canChange, onChanged }: { on: boolean; label: string; lines: readonly string[]; danger: boolean; canChange: boolean; onChanged: () => void }) {
  const [confirming, setConfirming] = useState<ConfirmRequest>();
  const [notice, setNotice] = useState<string>();
  const run = async (): Promise<void> => {
    const answer = await api<EmergencyBlockView | Proposed>(on ? 'PUT' : 'DELETE', '/emergency-block');
    if ('approval' in answer.body) setNotice(`Lifting the emergency block: proposed, waiting for another admin's approval (proposal ${answer.body.approval.id}).`);
    else setNotice(on ? 'Emergency block: engaged.' : 'Emergency block: lifted.');
    onChanged();
  };
  return (
    <>
      <button type="button" class={danger ? 'action danger' : 'action'} disabled={!canChange} onClick={() => setConfirming({ title: `${label}?`, lines, confirmLabel: label, run })}>
        {label}
      </button>
      <p class="status" role="status">
        {notice ?? ''}
      </p>
      <ConfirmDialog request={confirming} onDone={() => setConfirming(undefined)} />
    </>
  );
}

/**
 * On every page while the kill switch is on: no key decrypts or is published, whatever each key's own status says.
 * An admin can lift it here (or only propose that, when lifting waits for a second admin).
 */
export function EmergencyBanner({ block, canChange, policy, onChanged }: BlockProps) {
  if (block?.blocked !== true) return null;
  const proposed = waitsForApproval(policy);
  return (
    <div class="banner" role="alert">
      <p>
        <strong>Emergency block ON</strong> since <Time at={block.since} /> (by {block.by}): no key decrypts or is published, on every instance.
      </p>
      <SwitchButton
        on={false}
        label={proposed ? 'Propose lifting the emergency block' : 'Lift the emergency block'}
        lines={[LIFT_LINE, ...(proposed ? [PROPOSED_LINE] : [])]}
        danger={false}
        canChange={canChange}
        onChanged={onChanged}
      />
    </div>
  );
}

/** The kill switch, engaged from the key list: it never waits for a second admin (lifting it may). */
export function EmergencyEngage({ block, canChange, policy, onChanged }: BlockProps) {
  return (
    <>
      <h2>Emergency block</h2>
      <p>
        {block?.blocked === true
          ? 'On: see the banner above.'
          : 'Off. Engaging it stops every key at once: no decrypt, no public key, on every instance. Each version keeps its state.'}
      </p>
      {block?.blocked === false && (
        <SwitchButton
          on={true}
          label="Engage the emergency block"
          lines={[
            'From the next request no version of any key decrypts or is published (GET answers 404), on every instance. It applies at once; it does not wait for a second admin.',
            waitsForApproval(policy) ? 'Lifting it again waits for a second admin.' : 'Any admin can lift it again.',
          ]}
          danger={true}
          canChange={canChange}
          onChanged={onChanged}
        />
      )}
    </>
  );
}
