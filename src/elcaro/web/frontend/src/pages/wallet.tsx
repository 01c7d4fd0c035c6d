// The ELC wallet: balance, deposit address, transactions, transfers to another user, referrals.

import { useState } from "preact/hooks";
import { api, idempotencyKey } from "../api";
import { dateTime, formatDecimal } from "../format";
import { useResource, useSubmit } from "../hooks";
import { t, tx } from "../i18n";
import type { LedgerTx, Referrals, Wallet as WalletOut } from "../types";
import { Card, Empty, ErrorNote, Field, Figure, Loading, notify, Page, Pnl } from "../ui";

function elc(text: string | null | undefined): string {
  return `${formatDecimal(text, { places: 8 })} ELC`;
}

function Copy({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="button secondary small"
      aria-label={label}
      onClick={() =>
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          window.setTimeout(() => setCopied(false), 2000);
        })
      }
    >
      {copied ? t("common.copied") : t("common.copy")}
    </button>
  );
}

function Transfer({ onSent }: { onSent: () => void }) {
  const [form, setForm] = useState({ to: "", amount: "", memo: "" });
  const [key, setKey] = useState(idempotencyKey);
  const { busy, error, submit, fieldError } = useSubmit();
  const set = (name: keyof typeof form) => (event: Event) => {
    setForm({ ...form, [name]: (event.target as HTMLInputElement).value });
    setKey(idempotencyKey()); // another transfer: a new key (a retry of the same one keeps it)
  };
  const send = (event: Event) => {
    event.preventDefault();
    void submit(async () => {
      await api<LedgerTx>("/wallet/transfers", {
        body: { to_user_id: Number(form.to), amount: form.amount.trim().replace(",", "."), key, memo: form.memo.trim() || null },
      });
      notify(t("wallet.sent"), "ok");
      setForm({ to: "", amount: "", memo: "" });
      setKey(idempotencyKey());
      onSent();
    });
  };
  return (
    <form class="form-grid" onSubmit={send} noValidate aria-label={t("wallet.transfer")}>
      <Field label={t("wallet.to_user")} hint={t("wallet.to_user_hint")} error={fieldError("to_user_id")}>
        {({ id, describedBy, invalid }) => <input id={id} value={form.to} onInput={set("to")} inputMode="numeric" aria-describedby={describedBy} aria-invalid={invalid} required />}
      </Field>
      <Field label={t("wallet.amount")} error={fieldError("amount")}>
        {({ id, describedBy, invalid }) => <input id={id} value={form.amount} onInput={set("amount")} inputMode="decimal" aria-describedby={describedBy} aria-invalid={invalid} required />}
      </Field>
      <Field label={t("wallet.memo")} error={fieldError("memo")}>
        {({ id, describedBy, invalid }) => <input id={id} value={form.memo} onInput={set("memo")} maxLength={200} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      {error && !["to_user_id", "amount", "memo"].includes(error.field ?? "") ? <ErrorNote error={error} /> : null}
      <div class="form-actions">
        <button type="submit" class="button" disabled={busy} aria-busy={busy}>
          {t("wallet.send")}
        </button>
      </div>
    </form>
  );
}

export function Wallet() {
  const wallet = useResource(() => api<WalletOut>("/wallet"));
  const history = useResource(() => api<LedgerTx[]>("/wallet/history", { query: { limit: 50 } }));
  const referrals = useResource(() => api<Referrals>("/wallet/referrals"));
  const reload = () => {
    void wallet.reload();
    void history.reload();
  };
  return (
    <Page title={t("nav.wallet")}>
      <Card title={t("wallet.balance")}>
        {wallet.error ? <ErrorNote error={wallet.error} onRetry={wallet.reload} /> : null}
        {!wallet.data ? (
          wallet.error ? null : <Loading />
        ) : (
          <>
            <dl class="figures">
              <Figure label={t("wallet.available")}>
                <strong>{elc(wallet.data.available_elc)}</strong>
              </Figure>
              <Figure label={t("wallet.locked")}>{elc(wallet.data.locked_elc)}</Figure>
              <Figure label={t("wallet.total")}>{elc(wallet.data.total_elc)}</Figure>
            </dl>
            <p>
              {t("wallet.deposit_address")} <code class="mono break">{wallet.data.deposit_address}</code>{" "}
              <Copy text={wallet.data.deposit_address} label={t("wallet.copy_address")} />
            </p>
          </>
        )}
      </Card>
      <Card title={t("wallet.transfer")}>
        <Transfer onSent={reload} />
      </Card>
      <Card title={t("wallet.history")}>
        {history.error ? <ErrorNote error={history.error} onRetry={history.reload} /> : null}
        {!history.data ? (
          history.error ? null : <Loading />
        ) : history.data.length === 0 ? (
          <Empty>{t("wallet.no_history")}</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("wallet.when")}</th>
                  <th scope="col">{t("wallet.kind")}</th>
                  <th scope="col">{t("wallet.memo")}</th>
                  <th scope="col" class="num">
                    {t("wallet.amount")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {history.data.map((tx_) => (
                  <tr key={tx_.seq}>
                    <td>{dateTime(tx_.created_at)}</td>
                    <td>{tx("ledger", tx_.kind)}</td>
                    <td>{tx_.memo ?? tx_.reference ?? ""}</td>
                    <td class="num">
                      <Pnl value={tx_.amount_elc} currency="ELC" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title={t("wallet.referrals")}>
        {referrals.error ? <ErrorNote error={referrals.error} onRetry={referrals.reload} /> : null}
        {referrals.data ? (
          <>
            <p>
              {t("wallet.referral_code")} <code class="mono">{referrals.data.referral_code}</code>{" "}
              <Copy text={referrals.data.referral_code} label={t("wallet.copy_code")} />
            </p>
            <dl class="figures">
              <Figure label={t("wallet.referees")}>{referrals.data.referees}</Figure>
              <Figure label={t("wallet.earned")}>{elc(referrals.data.earned_elc)}</Figure>
            </dl>
            {referrals.data.people.length > 0 ? (
              <ul class="plain-list">
                {referrals.data.people.map((person) => (
                  <li key={person.user_id}>
                    <span>
                      {person.first_name ?? person.username ?? `#${person.user_id}`} · {dateTime(person.joined_at)} · {tx("approval", person.approval)}
                    </span>
                    <span>{elc(person.earned_elc)}</span>
                  </li>
                ))}
              </ul>
            ) : null}
          </>
        ) : referrals.error ? null : (
          <Loading />
        )}
      </Card>
    </Page>
  );
}
