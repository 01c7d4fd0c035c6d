// The subscription: the licence in force, prices, the free trial, buying with ELC or crypto, promo codes,
// and the payments made.

import { useState } from "preact/hooks";
import { api, idempotencyKey } from "../api";
import { date, dateTime, formatDecimal } from "../format";
import { useResource, useSubmit } from "../hooks";
import { plural, t, tx } from "../i18n";
import type { LicenceStatus, Payment, Price, Purchase } from "../types";
import { ActionButton, Badge, Card, Empty, ErrorNote, Field, Figure, Loading, Note, notify, Page } from "../ui";

interface Invoice {
  payment_id: number;
  invoice_id: string;
  asset: string;
  amount: string;
  pay_url: string;
  expires_at: number | null;
}

function Current({ status, onChange }: { status: LicenceStatus; onChange: () => void }) {
  return (
    <Card title={t("subscription.current")}>
      <dl class="figures">
        <Figure label={t("subscription.tier")}>
          <strong>{status.tier ? tx("tier", status.tier) : t("subscription.none")}</strong>
          {status.admin ? <Badge kind="info">{t("subscription.admin")}</Badge> : null}
        </Figure>
        <Figure label={t("subscription.expires")}>{status.expires_at ? dateTime(status.expires_at) : "—"}</Figure>
      </dl>
      {status.features.length > 0 ? (
        <p class="muted">
          {t("subscription.features")} {status.features.map((feature) => tx("feature", feature)).join(", ")}
        </p>
      ) : null}
      {status.trial_available ? (
        <ActionButton
          onAction={async () => {
            await api("/licences/trial", { method: "POST" });
            notify(t("subscription.trial_started"), "ok");
            onChange();
          }}
        >
          {t("subscription.start_trial")}
        </ActionButton>
      ) : null}
    </Card>
  );
}

function Prices({ onChange }: { onChange: () => void }) {
  const prices = useResource(() => api<Price[]>("/licences/prices"));
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  if (prices.error) return <ErrorNote error={prices.error} onRetry={prices.reload} />;
  if (!prices.data) return <Loading />;
  return (
    <Card title={t("subscription.prices")}>
      {invoice ? (
        <Note kind="info">
          {t("subscription.invoice", { amount: formatDecimal(invoice.amount), asset: invoice.asset })}{" "}
          <a href={invoice.pay_url} target="_blank" rel="noopener noreferrer">
            {t("subscription.pay")}
          </a>
        </Note>
      ) : null}
      {[...new Set(prices.data.map((price) => price.tier))].map((tier) => (
        <section key={tier} aria-label={tx("tier", tier)}>
          <h3>{tx("tier", tier)}</h3>
          <ul class="plain-list">
            {prices.data!
              .filter((price) => price.tier === tier)
              .map((price) => (
                <li key={`${price.tier}-${price.months}`}>
                  <span>
                    {plural("months", price.months)} · <strong>{formatDecimal(price.amount_elc, { places: 2 })} ELC</strong>
                    {price.discount_pct !== "0" ? <span class="muted"> (−{formatDecimal(price.discount_pct)} %)</span> : null}
                  </span>
                  <span class="row-actions">
                    <ActionButton
                      class="button small"
                      label={t("subscription.buy_label", { tier: tx("tier", price.tier), months: price.months })}
                      confirm={t("subscription.buy_confirm", { tier: tx("tier", price.tier), months: price.months, amount: formatDecimal(price.amount_elc, { places: 2 }) })}
                      onAction={async () => {
                        const bought = await api<Purchase>("/licences/buy", { body: { tier: price.tier, months: price.months, key: idempotencyKey() } });
                        notify(bought.licence ? t("subscription.bought") : tx("payment", bought.payment.status), "ok");
                        onChange();
                      }}
                    >
                      {t("subscription.buy_elc")}
                    </ActionButton>
                    <ActionButton
                      class="button secondary small"
                      onAction={async () => setInvoice(await api<Invoice>("/payments/crypto", { body: { tier: price.tier, months: price.months } }))}
                    >
                      {t("subscription.buy_crypto")}
                    </ActionButton>
                  </span>
                </li>
              ))}
          </ul>
        </section>
      ))}
    </Card>
  );
}

function Promo({ onChange }: { onChange: () => void }) {
  const [code, setCode] = useState("");
  return (
    <Card title={t("subscription.promo")}>
      <form class="form-grid" onSubmit={(event) => event.preventDefault()}>
        <Field label={t("subscription.promo_code")}>
          {({ id }) => <input id={id} value={code} onInput={(event) => setCode((event.target as HTMLInputElement).value)} autoCapitalize="characters" autoComplete="off" />}
        </Field>
        <div class="form-actions">
          <ActionButton
            disabled={!code.trim()}
            onAction={async () => {
              await api("/licences/promo", { body: { code: code.trim() } });
              setCode("");
              notify(t("subscription.promo_done"), "ok");
              onChange();
            }}
          >
            {t("subscription.redeem")}
          </ActionButton>
        </div>
      </form>
    </Card>
  );
}

function Declare({ onChange }: { onChange: () => void }) {
  const [form, setForm] = useState({ tier: "basic", months: "1", amount: "", currency: "USDT", reference: "" });
  const { error, submit, fieldError } = useSubmit();
  const set = (key: keyof typeof form) => (event: Event) => setForm({ ...form, [key]: (event.target as HTMLInputElement).value });
  return (
    <Card title={t("subscription.declare")}>
      <p class="muted">{t("subscription.declare_hint")}</p>
      <form class="form-grid" onSubmit={(event) => event.preventDefault()} noValidate aria-label={t("subscription.declare")}>
        <Field label={t("subscription.tier")} error={fieldError("tier")}>
          {({ id }) => (
            <select id={id} value={form.tier} onChange={set("tier")}>
              {["basic", "premium", "enterprise"].map((tier) => (
                <option key={tier} value={tier}>
                  {tx("tier", tier)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("subscription.months")} error={fieldError("months")}>
          {({ id, describedBy, invalid }) => <input id={id} value={form.months} onInput={set("months")} inputMode="numeric" aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field label={t("subscription.amount")} error={fieldError("amount")}>
          {({ id, describedBy, invalid }) => <input id={id} value={form.amount} onInput={set("amount")} inputMode="decimal" aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field label={t("subscription.currency")} error={fieldError("currency")}>
          {({ id, describedBy, invalid }) => <input id={id} value={form.currency} onInput={set("currency")} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field label={t("subscription.reference")} hint={t("subscription.reference_hint")} error={fieldError("reference")}>
          {({ id, describedBy, invalid }) => <input id={id} value={form.reference} onInput={set("reference")} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        {error && !error.field ? <ErrorNote error={error} /> : null}
        <div class="form-actions">
          <ActionButton
            onAction={() =>
              submit(async () => {
                await api<Payment>("/payments/manual", {
                  body: { tier: form.tier, months: Number(form.months), amount: form.amount.trim().replace(",", "."), currency: form.currency.trim(), reference: form.reference.trim() },
                });
                notify(t("subscription.declared"), "ok");
                setForm({ ...form, amount: "", reference: "" });
                onChange();
              })
            }
          >
            {t("subscription.declare_send")}
          </ActionButton>
        </div>
      </form>
    </Card>
  );
}

function Payments({ version }: { version: number }) {
  const payments = useResource(() => api<Payment[]>("/payments"), [version]);
  return (
    <Card title={t("subscription.payments")}>
      {payments.error ? <ErrorNote error={payments.error} onRetry={payments.reload} /> : null}
      {!payments.data ? (
        payments.error ? null : <Loading />
      ) : payments.data.length === 0 ? (
        <Empty>{t("subscription.no_payments")}</Empty>
      ) : (
        <ul class="plain-list">
          {payments.data.map((payment) => (
            <li key={payment.id}>
              <span>
                {date(payment.created_at)} · {tx("tier", payment.tier)} × {payment.months} · {formatDecimal(payment.amount)} {payment.currency}
                {payment.reason ? <span class="muted"> · {payment.reason}</span> : null}
              </span>
              <Badge kind={payment.status === "paid" ? "ok" : payment.status === "rejected" || payment.status === "failed" ? "short" : "info"}>
                {tx("payment", payment.status)}
              </Badge>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function Subscription() {
  const status = useResource(() => api<LicenceStatus>("/licences/current"));
  const [version, setVersion] = useState(0);
  const changed = () => {
    void status.reload();
    setVersion(version + 1);
  };
  return (
    <Page title={t("nav.subscription")}>
      {status.error ? <ErrorNote error={status.error} onRetry={status.reload} /> : null}
      {status.data ? <Current status={status.data} onChange={changed} /> : status.error ? null : <Loading />}
      <Prices onChange={changed} />
      <Promo onChange={changed} />
      <Declare onChange={changed} />
      <Payments version={version} />
    </Page>
  );
}
