// Where the trader's orders go (targets) and the API keys for them. A secret typed here is sent once,
// encrypted by the server and never shown again: the list shows the key's last four characters only.

import { useState } from "preact/hooks";
import { api } from "../api";
import { dateTime, money } from "../format";
import { useResource, useSubmit } from "../hooks";
import { t, tx } from "../i18n";
import type { Credential, CredentialTest, Done, TargetView } from "../types";
import { ActionButton, Card, describeError, Empty, ErrorNote, Field, Loading, Note, notify, Page } from "../ui";

const ENVIRONMENTS: Record<string, string[]> = {
  bybit: ["paper", "demo", "testnet", "live"],
  binance: ["paper", "testnet", "live"],
  hyperliquid: ["paper", "testnet", "live"],
};

const KEYED_TARGETS = Object.entries(ENVIRONMENTS).flatMap(([exchange, environments]) =>
  environments.filter((environment) => environment !== "paper").map((environment) => `${exchange}:${environment}`),
);

function targetName(target: string): string {
  return tx("target", target, target);
}

function Targets() {
  const targets = useResource(() => api<TargetView[]>("/me/targets"));
  const [exchange, setExchange] = useState("bybit");
  const [environment, setEnvironment] = useState("paper");
  const [optIn, setOptIn] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const save = async (target: string, enabled: boolean, liveOptIn = false) => {
    setError(null);
    const listed = targets.data ?? [];
    if (listed.some((item) => item.target === target)) {
      targets.set(listed.map((item) => (item.target === target ? { ...item, enabled } : item))); // shown at once
    }
    try {
      await api<TargetView>(`/me/targets/${encodeURIComponent(target)}`, { method: "PUT", body: { enabled, live_opt_in: liveOptIn } });
      await targets.reload();
    } catch (failure) {
      setError(failure);
      await targets.reload(); // show what the server kept
    }
  };

  return (
    <Card title={t("targets.title")}>
      <p class="muted">{t("targets.hint")}</p>
      {targets.error ? <ErrorNote error={targets.error} onRetry={targets.reload} /> : null}
      {!targets.data ? (
        <Loading />
      ) : targets.data.length === 0 ? (
        <Empty>{t("targets.none")}</Empty>
      ) : (
        <ul class="plain-list">
          {targets.data.map((item) => (
            <li key={item.target}>
              <label class="switch">
                <input
                  type="checkbox"
                  checked={item.enabled}
                  aria-label={t("targets.trade_on", { target: targetName(item.target) })}
                  onChange={(event) => void save(item.target, (event.target as HTMLInputElement).checked, item.live_opted_in)}
                />
                <span class="switch-track" aria-hidden="true" />
                <span aria-hidden="true">{targetName(item.target)}</span>
              </label>
              {item.target.endsWith(":live") ? <span class="badge badge-short">{t("targets.real_money")}</span> : null}
            </li>
          ))}
        </ul>
      )}
      {error ? <ErrorNote error={error} /> : null}
      <h3>{t("targets.add_title")}</h3>
      <form
        class="form-grid"
        onSubmit={(event) => {
          event.preventDefault();
          void save(`${exchange}:${environment}`, true, environment === "live" && optIn);
        }}
      >
        <Field label={t("targets.exchange")}>
          {({ id }) => (
            <select
              id={id}
              value={exchange}
              onChange={(event) => {
                const next = (event.target as HTMLSelectElement).value;
                setExchange(next);
                if (!ENVIRONMENTS[next].includes(environment)) setEnvironment("paper");
              }}
            >
              {Object.keys(ENVIRONMENTS).map((item) => (
                <option key={item} value={item}>
                  {tx("exchange", item)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("targets.environment")}>
          {({ id }) => (
            <select id={id} value={environment} onChange={(event) => setEnvironment((event.target as HTMLSelectElement).value)}>
              {ENVIRONMENTS[exchange].map((item) => (
                <option key={item} value={item}>
                  {tx("environment", item)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {environment === "live" ? (
          <label class="checkbox wide">
            <input type="checkbox" checked={optIn} onChange={(event) => setOptIn((event.target as HTMLInputElement).checked)} />
            {t("targets.live_opt_in")}
          </label>
        ) : null}
        <div class="form-actions">
          <button type="submit" class="button">
            {t("targets.add")}
          </button>
        </div>
      </form>
    </Card>
  );
}

const EMPTY_KEYS = { target: KEYED_TARGETS[0], api_key: "", api_secret: "", private_key: "", wallet_address: "" };

function AddKeys({ onAdded }: { onAdded: () => void }) {
  const [form, setForm] = useState(EMPTY_KEYS);
  const { busy, error, submit, fieldError } = useSubmit();
  const hyperliquid = form.target.startsWith("hyperliquid:");
  const set = (key: keyof typeof form) => (event: Event) => setForm({ ...form, [key]: (event.target as HTMLInputElement).value });

  const save = (event: Event) => {
    event.preventDefault();
    const body = hyperliquid
      ? { target: form.target, private_key: form.private_key, wallet_address: form.wallet_address }
      : { target: form.target, api_key: form.api_key, api_secret: form.api_secret };
    void submit(async () => {
      await api<Credential>("/me/credentials", { body });
      setForm({ ...EMPTY_KEYS, target: form.target }); // the secret leaves the page's memory with the form
      notify(t("keys.saved"), "ok");
      onAdded();
    });
  };

  const secretInput = (key: "api_secret" | "private_key", label: string) => (
    <Field label={label} error={fieldError(key)}>
      {({ id, describedBy, invalid }) => (
        <input id={id} type="password" value={form[key]} onInput={set(key)} autoComplete="off" spellcheck={false} aria-describedby={describedBy} aria-invalid={invalid} required />
      )}
    </Field>
  );

  return (
    <form class="form-grid" onSubmit={save} noValidate aria-label={t("keys.add")}>
      <Field label={t("keys.target")} error={fieldError("target")}>
        {({ id }) => (
          <select id={id} value={form.target} onChange={set("target")}>
            {KEYED_TARGETS.map((target) => (
              <option key={target} value={target}>
                {targetName(target)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {hyperliquid ? (
        <>
          {secretInput("private_key", t("keys.private_key"))}
          <Field label={t("keys.wallet_address")} error={fieldError("wallet_address")}>
            {({ id, describedBy, invalid }) => (
              <input id={id} value={form.wallet_address} onInput={set("wallet_address")} autoComplete="off" spellcheck={false} aria-describedby={describedBy} aria-invalid={invalid} />
            )}
          </Field>
        </>
      ) : (
        <>
          <Field label={t("keys.api_key")} error={fieldError("api_key")}>
            {({ id, describedBy, invalid }) => (
              <input id={id} value={form.api_key} onInput={set("api_key")} autoComplete="off" spellcheck={false} aria-describedby={describedBy} aria-invalid={invalid} required />
            )}
          </Field>
          {secretInput("api_secret", t("keys.api_secret"))}
        </>
      )}
      {error && !error.field ? <ErrorNote error={error} /> : null}
      <p class="muted small wide">{t("keys.permissions")}</p>
      <div class="form-actions">
        <button type="submit" class="button" disabled={busy} aria-busy={busy}>
          {t("keys.save")}
        </button>
      </div>
    </form>
  );
}

function Keys() {
  const keys = useResource(() => api<Credential[]>("/me/credentials"));
  const [tested, setTested] = useState<Record<number, { ok: boolean; text: string }>>({});
  return (
    <Card title={t("keys.title")}>
      <p class="muted">{t("keys.hint")}</p>
      {keys.error ? <ErrorNote error={keys.error} onRetry={keys.reload} /> : null}
      {!keys.data ? (
        <Loading />
      ) : keys.data.length === 0 ? (
        <Empty>{t("keys.none")}</Empty>
      ) : (
        <ul class="plain-list keys" data-testid="keys">
          {keys.data.map((key) => (
            <li key={key.id}>
              <div>
                <strong>{targetName(key.target)}</strong>{" "}
                <span class="mono">{key.key_hint ? `…${key.key_hint}` : key.wallet_address ?? key.label}</span>
                <div class="muted small">
                  {t("keys.added", { when: dateTime(key.created_at) })} ·{" "}
                  {key.last_verified_at ? t("keys.verified", { when: dateTime(key.last_verified_at) }) : t("keys.never_verified")}
                </div>
                {tested[key.id] ? <Note kind={tested[key.id].ok ? "ok" : "error"}>{tested[key.id].text}</Note> : null}
              </div>
              <div class="row-actions">
                <ActionButton
                  class="button secondary small"
                  onAction={async () => {
                    try {
                      const result = await api<CredentialTest>(`/me/credentials/${key.id}/test`, { method: "POST" });
                      setTested({ ...tested, [key.id]: { ok: true, text: t("keys.works", { equity: money(result.balance.equity), asset: result.balance.asset }) } });
                      await keys.reload();
                    } catch (failure) {
                      setTested({ ...tested, [key.id]: { ok: false, text: describeError(failure) } });
                    }
                  }}
                >
                  {t("keys.test")}
                </ActionButton>
                <ActionButton
                  class="button danger secondary small"
                  confirm={t("keys.delete_confirm", { target: targetName(key.target) })}
                  onAction={async () => {
                    await api<Done>(`/me/credentials/${key.id}`, { method: "DELETE" });
                    await keys.reload();
                  }}
                >
                  {t("keys.delete")}
                </ActionButton>
              </div>
            </li>
          ))}
        </ul>
      )}
      <h3>{t("keys.add")}</h3>
      <AddKeys onAdded={() => void keys.reload()} />
    </Card>
  );
}

export function Exchanges() {
  return (
    <Page title={t("nav.exchanges")}>
      <Targets />
      <Keys />
    </Page>
  );
}
