// Small building blocks every page shares: page frame, cards, figures, errors, confirmations, notices.

import type { ComponentChildren, HTMLAttributes } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { money, percent, sign } from "./format";
import { t, tx } from "./i18n";

export function Page({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ElCaro`;
    heading.current?.focus({ preventScroll: true }); // a screen reader hears the new page's name
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Card({
  title,
  actions,
  children,
  class: className,
  ...rest
}: { title?: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; class?: string } & Omit<HTMLAttributes<HTMLElement>, "title">) {
  const id = useId();
  return (
    <section class={`card ${className ?? ""}`} aria-labelledby={title ? id : undefined} {...rest}>
      {title || actions ? (
        <header class="card-head">
          {title ? <h2 id={id}>{title}</h2> : <span />}
          {actions ? <div class="card-actions">{actions}</div> : null}
        </header>
      ) : null}
      {children}
    </section>
  );
}

export function Loading({ label }: { label?: string }) {
  return (
    <p class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      {label ?? t("common.loading")}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** What went wrong, in the reader's language, with the server's own words when it gave any. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const general = tx("error", error.code, "");
    if (error.code === "invalid" || error.code === "conflict" || error.code === "exchange_refused") {
      return error.message;
    }
    if (general && error.message && error.message !== "network" && !error.message.startsWith("HTTP ")) {
      return `${general} ${error.message}`;
    }
    return general || error.message;
  }
  return t("error.unexpected");
}

export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div class="note note-error" role="alert">
      <p>{describeError(error)}</p>
      {onRetry ? (
        <button type="button" class="button small" onClick={onRetry}>
          {t("common.retry")}
        </button>
      ) : null}
    </div>
  );
}

export function Note({ kind = "info", children }: { kind?: "info" | "ok" | "warn" | "error"; children: ComponentChildren }) {
  return (
    <div class={`note note-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

/** Money with its sign coloured (and said, for those who cannot see the colour). */
export function Pnl({ value, pct, currency }: { value: string | null | undefined; pct?: string | null; currency?: string }) {
  const direction = sign(value);
  return (
    <span class={`pnl ${direction > 0 ? "up" : direction < 0 ? "down" : ""}`}>
      {money(value, true)}
      {currency ? ` ${currency}` : ""}
      {pct !== undefined && pct !== null ? <span class="pnl-pct"> ({percent(pct, true)})</span> : null}
    </span>
  );
}

export function Figure({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <div class="figure">
      <dt>{label}</dt>
      <dd>
        {children}
        {hint ? <span class="figure-hint">{hint}</span> : null}
      </dd>
    </div>
  );
}

export function Badge({ kind, children }: { kind?: string; children: ComponentChildren }) {
  return <span class={`badge ${kind ? `badge-${kind}` : ""}`}>{children}</span>;
}

export function SideBadge({ side }: { side: string }) {
  return <Badge kind={side === "long" || side === "buy" ? "long" : "short"}>{tx("side", side)}</Badge>;
}

interface FieldProps {
  label: string;
  hint?: ComponentChildren;
  error?: string | null;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ComponentChildren;
}

/** A labelled form control; its hint and error are announced with it. */
export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : "", error ? errorId : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field ${error ? "field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children({ id, describedBy, invalid: Boolean(error) })}
      {hint ? (
        <p class="field-hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={errorId} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A button that runs an async action, shows it is busy, and reports the failure next to itself. */
export function ActionButton({
  onAction,
  children,
  class: className = "button",
  confirm,
  disabled,
  label,
}: {
  onAction: () => Promise<unknown>;
  children: ComponentChildren;
  class?: string;
  confirm?: string;
  disabled?: boolean;
  label?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    if (confirm && !(await confirmDialog(confirm))) return;
    setBusy(true);
    setError(null);
    try {
      await onAction();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={className} onClick={run} disabled={busy || disabled} aria-busy={busy} aria-label={label}>
        {children}
      </button>
      {error ? (
        <span class="action-error" role="alert">
          {describeError(error)}
        </span>
      ) : null}
    </span>
  );
}

// ---------------------------------------------------------------------------------- confirmation dialog

type Asker = (question: string) => Promise<boolean>;
let asker: Asker | null = null;

/** Ask a yes/no question in the page's own dialog (a webview may not show ``window.confirm``). */
export function confirmDialog(question: string): Promise<boolean> {
  return asker ? asker(question) : Promise.resolve(window.confirm(question));
}

export function ConfirmHost() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [question, setQuestion] = useState("");
  const settle = useRef<((answer: boolean) => void) | null>(null);
  useEffect(() => {
    asker = (text) =>
      new Promise<boolean>((resolve) => {
        settle.current?.(false);
        settle.current = resolve;
        setQuestion(text);
        dialog.current?.showModal();
      });
    return () => {
      asker = null;
    };
  }, []);
  const answer = (value: boolean) => {
    dialog.current?.close();
    settle.current?.(value);
    settle.current = null;
  };
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="confirm-question" onCancel={() => answer(false)}>
      <p id="confirm-question">{question}</p>
      <div class="dialog-actions">
        <button type="button" class="button secondary" onClick={() => answer(false)}>
          {t("common.cancel")}
        </button>
        <button type="button" class="button" onClick={() => answer(true)} autoFocus>
          {t("common.confirm")}
        </button>
      </div>
    </dialog>
  );
}

// ---------------------------------------------------------------------------------- notices

interface Toast {
  id: number;
  text: string;
  kind: "info" | "ok" | "warn" | "error";
}

let pushToast: ((toast: Omit<Toast, "id">) => void) | null = null;
let toastSeq = 0;

/** A short notice at the edge of the screen, read out politely by screen readers. */
export function notify(text: string, kind: Toast["kind"] = "info"): void {
  pushToast?.({ text, kind });
}

export function ToastHost() {
  const [toasts, setToasts] = useState<Toast[]>([]);
  useEffect(() => {
    pushToast = (toast) => {
      const id = ++toastSeq;
      setToasts((list) => [...list.slice(-2), { ...toast, id }]); // three at most: the newest
      window.setTimeout(() => setToasts((list) => list.filter((item) => item.id !== id)), 6000);
    };
    return () => {
      pushToast = null;
    };
  }, []);
  return (
    <div class="toasts" aria-live="polite" aria-atomic="false" data-testid="toasts">
      {toasts.map((toast) => (
        <div key={toast.id} class={`toast toast-${toast.kind}`}>
          {toast.text}
          <button
            type="button"
            class="toast-close"
            aria-label={t("common.dismiss")}
            onClick={() => setToasts((list) => list.filter((item) => item.id !== toast.id))}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function Tabs<T extends string>({
  value,
  options,
  onChange,
  label,
}: {
  value: T;
  options: { value: T; label: string }[];
  onChange: (value: T) => void;
  label: string;
}) {
  return (
    <div class="segmented" role="group" aria-label={label}>
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          class={option.value === value ? "active" : ""}
          aria-pressed={option.value === value}
          onClick={() => onChange(option.value)}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}
