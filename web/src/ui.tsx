import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { STATE_TONES, STATUS_TONES, stateLabel, statusLabel, type EffectiveStatus, type KeyState } from './vocabulary';

/** Loads data for a page; `reload` fetches again after a change. Errors become a sentence, never a console error. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data }),
      (error: unknown) => live && setState({ error: describe(error) }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  return { ...state, reload: useCallback(() => setRound((r) => r + 1), []) };
}

export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function Loading({ what }: { what: string }) {
  return <p aria-live="polite">Loading {what}…</p>;
}

export function ErrorText({ text }: { text?: string | undefined }) {
  return text === undefined ? null : (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/** A state as NIST SP 800-57 writes it, in its tone: both from the service's state table (web/src/vocabulary.ts). */
export function StateBadge({ state }: { state: KeyState }) {
  return <span class={`badge tone-${STATE_TONES[state]}`}>{stateLabel(state)}</span>;
}

/**
 * What a key or version does now, as the service computed it (src/keys/effective-status.ts): "Serving" only while it
 * does, else why not ("Pending deletion until …" in the reader's locale).
 */
export function StatusBadge({ status, until }: { status: EffectiveStatus; until?: string | undefined }) {
  const label = statusLabel(until === undefined ? { status } : { status, until }, (at) => new Date(at).toLocaleString());
  return <span class={`badge tone-${STATUS_TONES[status]}`}>{label}</span>;
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge ${kind}`}>{children}</span>;
}

/** A time as the reader's locale writes it, with the exact UTC instant in the machine-readable attribute. */
export function Time({ at }: { at?: string | undefined }) {
  if (at === undefined) return <span>never</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

export function shortId(keyId: string): string {
  return keyId.length > 12 ? `${keyId.slice(0, 8)}…` : keyId;
}

/** A table that scrolls sideways at phone width; the scrolling region is reachable by keyboard and named. */
export function TableRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A named, scrolling table with its column headings; the rows are the children. */
export function DataTable({ label, columns, children, className }: { label: string; columns: readonly string[]; children: ComponentChildren; className?: string }) {
  return (
    <TableRegion label={label}>
      <table class={className}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableRegion>
  );
}

export interface ConfirmRequest {
  readonly title: string;
  readonly lines: readonly string[];
  readonly confirmLabel: string;
  run(): Promise<void>;
}

/** A modal confirmation (the native dialog: focus moves in, Escape cancels) that shows what the step will do. */
export function ConfirmDialog({ request, onDone }: { request: ConfirmRequest | undefined; onDone: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (request !== undefined && !dialog.open) dialog.showModal();
    if (request === undefined && dialog.open) dialog.close();
    setError(undefined);
  }, [request]);
  const confirm = async (): Promise<void> => {
    if (request === undefined) return;
    setBusy(true);
    try {
      await request.run();
      onDone();
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={onDone}>
      {request && (
        <div>
          <h2 id="confirm-title">{request.title}</h2>
          {request.lines.map((line) => (
            <p key={line}>{line}</p>
          ))}
          <ErrorText text={error} />
          <div class="actions">
            <button type="button" onClick={onDone}>
              Cancel
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>
              {request.confirmLabel}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}
