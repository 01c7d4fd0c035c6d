// Which strategies the trader follows (and in which direction), and the risk settings at every level.
//
// A settings level is validated whole by the server; a refused value comes back naming the field and its
// allowed range, and is shown under that field. Nothing is stored then.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { formatDecimal } from "../format";
import { useResource, useSubmit } from "../hooks";
import { t, tx, type Key } from "../i18n";
import type { SettingField, StoredSettings, Strategy, TargetView } from "../types";
import { ActionButton, Card, describeError, ErrorNote, Field, Loading, Note, notify, Page } from "../ui";

const EXCHANGES = ["bybit", "binance", "hyperliquid"];
type Scope = "global" | "exchange" | "strategy" | "strategy_side";

function StrategyList({ strategies, onChange }: { strategies: Strategy[]; onChange: (next: Strategy) => void }) {
  const [errors, setErrors] = useState<Record<string, unknown>>({});
  const change = async (strategy: Strategy, body: Partial<Strategy>) => {
    const name = strategy.name;
    setErrors({ ...errors, [name]: null });
    onChange({ ...strategy, ...body }); // shown at once; put back if the server refuses
    try {
      onChange(await api<Strategy>(`/me/strategies/${encodeURIComponent(name)}`, { method: "PUT", body }));
    } catch (error) {
      onChange(strategy);
      setErrors({ ...errors, [name]: error });
    }
  };
  return (
    <Card title={t("strategies.title")}>
      <p class="muted">{t("strategies.hint")}</p>
      <ul class="strategy-list">
        {strategies.map((strategy) => (
          <li key={strategy.name} class="strategy" data-testid={`strategy-${strategy.name}`}>
            <label class="switch">
              <input
                type="checkbox"
                checked={strategy.enabled}
                aria-label={t("strategies.follow", { name: strategy.name })}
                onChange={(event) => void change(strategy, { enabled: (event.target as HTMLInputElement).checked })}
              />
              <span class="switch-track" aria-hidden="true" />
              <span class="strategy-name" aria-hidden="true">
                {strategy.name}
              </span>
            </label>
            <label class="inline-field">
              <span class="visually-hidden">{t("strategies.direction_of", { name: strategy.name })}</span>
              <select
                value={strategy.direction}
                onChange={(event) => void change(strategy, { direction: (event.target as HTMLSelectElement).value as Strategy["direction"] })}
              >
                {["both", "long", "short"].map((direction) => (
                  <option key={direction} value={direction}>
                    {tx("direction", direction)}
                  </option>
                ))}
              </select>
            </label>
            {errors[strategy.name] ? <ErrorNote error={errors[strategy.name]} /> : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function allowed(field: SettingField): string {
  if (field.kind === "number" || field.kind === "whole") {
    return t(`settings.allowed_${field.kind}` as Key, { low: formatDecimal(field.low), high: formatDecimal(field.high) });
  }
  if (field.kind === "choice") return t("settings.allowed_choice", { choices: field.choices.map((choice) => tx(`choice.${field.name}`, choice)).join(", ") });
  return t("settings.allowed_bool");
}

function shown(field: SettingField, value: unknown): string {
  if (value === null || value === undefined) return t("settings.off");
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  if (field.kind === "choice") return tx(`choice.${field.name}`, String(value));
  return formatDecimal(String(value));
}

const OFF = "__off__";

function SettingsForm({ fields, strategies, targets }: { fields: SettingField[]; strategies: Strategy[]; targets: TargetView[] }) {
  const [scope, setScope] = useState<Scope>("strategy");
  const [exchange, setExchange] = useState(EXCHANGES[0]);
  const [strategy, setStrategy] = useState(strategies.find((item) => item.enabled)?.name ?? strategies[0]?.name ?? "");
  const [side, setSide] = useState("long");
  const [values, setValues] = useState<Record<string, string>>({});
  const { error, submit, fieldError } = useSubmit({ within: (path, name) => path.split(".").includes(name) });
  const [saved, setSaved] = useState<StoredSettings | null>(null);
  const reference = targets.find((item) => item.enabled)?.target ?? targets[0]?.target ?? "bybit:paper";
  const effective = useResource(
    () =>
      api<Record<string, unknown>>("/me/settings/effective", {
        query: { target: reference, strategy, side: scope === "strategy_side" ? side : "long" },
      }),
    [reference, strategy, side, scope, saved],
  );
  const query = useMemo(
    () => ({
      exchange: scope === "exchange" ? exchange : undefined,
      strategy: scope === "strategy" || scope === "strategy_side" ? strategy : undefined,
      side: scope === "strategy_side" ? side : undefined,
    }),
    [scope, exchange, strategy, side],
  );

  const changes = (): Record<string, unknown> => {
    const found: Record<string, unknown> = {};
    for (const field of fields) {
      const raw = values[field.name]?.trim();
      if (!raw) continue;
      if (raw === OFF) found[field.name] = null;
      else if (field.kind === "bool") found[field.name] = raw === "true";
      else if (field.kind === "number") found[field.name] = raw.replace(",", "."); // a Russian keyboard's comma
      else found[field.name] = raw;
    }
    return found;
  };

  const save = (event: Event) => {
    event.preventDefault();
    setSaved(null);
    void submit(async () => {
      const body = changes();
      if (Object.keys(body).length === 0) {
        throw new ApiError(422, { error: { code: "invalid", message: t("settings.nothing_changed") } });
      }
      const stored = await api<StoredSettings>(`/me/settings/${scope}`, { method: "PUT", body: { changes: body }, query });
      setSaved(stored);
      setValues({});
      notify(t("settings.saved"), "ok");
    });
  };

  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (error) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(); // straight to what to fix
  }, [error]);

  const control = (field: SettingField, id: string, describedBy: string | undefined, invalid: boolean) => {
    const value = values[field.name] ?? "";
    const update = (event: Event) => setValues({ ...values, [field.name]: (event.target as HTMLInputElement).value });
    const off = field.nullable ? <option value={OFF}>{t("settings.off")}</option> : null;
    if (field.kind === "choice" || field.kind === "bool") {
      const choices = field.kind === "bool" ? ["true", "false"] : field.choices;
      return (
        <select id={id} value={value} onChange={update} aria-describedby={describedBy} aria-invalid={invalid}>
          <option value="">
            {effective.data ? t("settings.unchanged_now", { value: shown(field, effective.data[field.name]) }) : t("settings.unchanged")}
          </option>
          {choices.map((choice) => (
            <option key={choice} value={choice}>
              {field.kind === "bool" ? t(choice === "true" ? "common.yes" : "common.no") : tx(`choice.${field.name}`, choice)}
            </option>
          ))}
          {off}
        </select>
      );
    }
    return (
      <div class="input-row">
        <input
          id={id}
          name={field.name}
          value={value === OFF ? "" : value}
          onInput={update}
          inputMode={field.kind === "whole" ? "numeric" : "decimal"}
          placeholder={effective.data ? shown(field, effective.data[field.name]) : ""}
          aria-describedby={describedBy}
          aria-invalid={invalid}
          autoComplete="off"
        />
        {field.nullable ? (
          <label class="checkbox">
            <input type="checkbox" checked={value === OFF} onChange={(event) => setValues({ ...values, [field.name]: (event.target as HTMLInputElement).checked ? OFF : "" })} />
            {t("settings.switch_off")}
          </label>
        ) : null}
      </div>
    );
  };

  return (
    <Card title={t("settings.title")}>
      <form ref={form} onSubmit={save} noValidate aria-describedby="settings-help" data-testid="settings-form">
        <p class="muted" id="settings-help">
          {t("settings.help")}
        </p>
        <div class="form-grid">
          <Field label={t("settings.level")}>
            {({ id }) => (
              <select id={id} value={scope} onChange={(event) => setScope((event.target as HTMLSelectElement).value as Scope)}>
                {(["global", "exchange", "strategy", "strategy_side"] as Scope[]).map((item) => (
                  <option key={item} value={item}>
                    {t(`settings.scope_${item}` as Key)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {scope === "exchange" ? (
            <Field label={t("settings.exchange")}>
              {({ id }) => (
                <select id={id} value={exchange} onChange={(event) => setExchange((event.target as HTMLSelectElement).value)}>
                  {EXCHANGES.map((item) => (
                    <option key={item} value={item}>
                      {tx("exchange", item)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {scope === "strategy" || scope === "strategy_side" ? (
            <Field label={t("settings.strategy")}>
              {({ id }) => (
                <select id={id} value={strategy} onChange={(event) => setStrategy((event.target as HTMLSelectElement).value)}>
                  {strategies.map((item) => (
                    <option key={item.name} value={item.name}>
                      {item.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : null}
          {scope === "strategy_side" ? (
            <Field label={t("settings.side")}>
              {({ id }) => (
                <select id={id} value={side} onChange={(event) => setSide((event.target as HTMLSelectElement).value)}>
                  <option value="long">{t("side.long")}</option>
                  <option value="short">{t("side.short")}</option>
                </select>
              )}
            </Field>
          ) : null}
        </div>
        {effective.data ? (
          <p class="muted small">{t("settings.placeholder_note", { strategy, target: tx("target", reference, reference) })}</p>
        ) : null}
        <div class="form-grid settings-fields">
          {fields.map((field) => (
            <Field
              key={field.name}
              label={tx("setting", field.name)}
              hint={allowed(field)}
              error={fieldError(field.name)}
            >
              {({ id, describedBy, invalid }) => control(field, id, describedBy, invalid)}
            </Field>
          ))}
        </div>
        {error ? (
          <Note kind="error">
            <p>{t("settings.not_saved")}</p>
            {!fields.some((field) => fieldError(field.name)) ? <p>{describeError(error)}</p> : null}
          </Note>
        ) : null}
        <div class="form-actions">
          <button type="submit" class="button">
            {t("settings.save")}
          </button>
          <ActionButton
            class="button secondary"
            confirm={t("settings.reset_confirm")}
            onAction={async () => {
              await api(`/me/settings/${scope}`, { method: "DELETE", query });
              setSaved(null);
              setValues({});
              await effective.reload();
              notify(t("settings.reset_done"), "ok");
            }}
          >
            {t("settings.reset")}
          </ActionButton>
        </div>
        {saved ? (
          <Note kind="ok">
            {t("settings.saved_values", {
              values: Object.entries(saved.values)
                .map(([name, value]) => `${tx("setting", name)}: ${value === null ? t("settings.off") : String(value)}`)
                .join("; "),
            })}
          </Note>
        ) : null}
      </form>
    </Card>
  );
}

export function Strategies() {
  const strategies = useResource(() => api<Strategy[]>("/me/strategies"));
  const fields = useResource(() => api<SettingField[]>("/me/settings/fields"));
  const targets = useResource(() => api<TargetView[]>("/me/targets"));
  const error = strategies.error ?? fields.error ?? targets.error;
  return (
    <Page title={t("nav.strategies")}>
      {error ? (
        <ErrorNote
          error={error}
          onRetry={() => {
            void strategies.reload();
            void fields.reload();
            void targets.reload();
          }}
        />
      ) : null}
      {strategies.data && fields.data && targets.data ? (
        <>
          <StrategyList
            strategies={strategies.data}
            onChange={(next) => strategies.set(strategies.data!.map((item) => (item.name === next.name ? next : item)))}
          />
          <SettingsForm fields={fields.data} strategies={strategies.data} targets={targets.data} />
        </>
      ) : error ? null : (
        <Loading />
      )}
    </Page>
  );
}
