// Setting a managed position's stop and take-profit prices by hand.
//
// Only what changed is sent: an untouched stop is not re-validated against rules that moved it meanwhile. The
// server rounds each level to the tick and refuses one the position cannot take, naming the field
// (``stop``, ``target_prices``, ``target_prices.N``): the refusal is shown at that input.

import { useState } from "preact/hooks";
import { api, type ApiError } from "../api";
import { compareExact, formatDecimal, parseExact } from "../format";
import { useSubmit } from "../hooks";
import { t } from "../i18n";
import type { Position } from "../types";
import { describeError, ErrorNote, Field, notify } from "../ui";

function explain(error: ApiError): string {
  if (error.code === "position.stop_refused") return t("exits.stop_refused", { stop: String(error.params.stop ?? "") });
  if (error.code === "position.exits_empty") return t("exits.nothing");
  return describeError(error);
}

const typed = (text: string) => text.trim().replace(",", ".");
/** A level as a person types it: ``63600``, not ``63600.00``. */
const plain = (text: string) => (text.includes(".") ? text.replace(/\.?0+$/, "") : text);
/** Whether what was typed differs from the level held; what is no number goes to the server to be refused there. */
const differs = (typedText: string, held: string | null) => held === null || !parseExact(typedText) || compareExact(typedText, held) !== 0;

export function ExitsForm({ position, onSaved, onCancel }: { position: Position; onSaved: (updated: Position) => void; onCancel: () => void }) {
  const open = position.targets.filter((target) => !target.hit);
  const [stop, setStop] = useState(plain(position.stop_loss ?? ""));
  const [prices, setPrices] = useState(open.map((target) => plain(target.price)));
  const { busy, error, submit, fieldError: at, clear } = useSubmit({ describe: explain });
  const atTarget = (index: number) => at(`target_prices.${index}`) ?? (index === 0 ? at("target_prices") : null);
  const shownElsewhere = error?.field === "stop" || error?.field?.startsWith("target_prices");

  const save = (event: Event) => {
    event.preventDefault();
    clear();
    const body: { stop?: string; target_prices?: string[] } = {};
    const newStop = typed(stop);
    if (newStop && differs(newStop, position.stop_loss)) body.stop = newStop;
    const newPrices = prices.map(typed);
    if (newPrices.some((price, index) => differs(price, open[index].price))) body.target_prices = newPrices;
    if (body.stop === undefined && body.target_prices === undefined) {
      onCancel();
      return;
    }
    void submit(async () => {
      const updated = await api<Position>(`/trading/positions/${position.id}/exits`, { method: "PATCH", body });
      notify(t("exits.saved", { stop: formatDecimal(updated.stop_loss) }), "ok");
      onSaved(updated);
    });
  };

  return (
    <form class="form-grid exits-form" onSubmit={save} noValidate aria-label={t("exits.title")} data-testid="exits-form">
      <Field label={t("exits.stop")} hint={t("exits.stop_hint")} error={at("stop")}>
        {({ id, describedBy, invalid }) => (
          <input
            id={id}
            name="stop"
            value={stop}
            onInput={(event) => setStop((event.target as HTMLInputElement).value)}
            inputMode="decimal"
            autoComplete="off"
            aria-describedby={describedBy}
            aria-invalid={invalid}
          />
        )}
      </Field>
      {position.targets
        .filter((target) => target.hit)
        .map((target) => (
          <p class="muted small" key={`hit-${target.number}`}>
            {t("exits.target_hit", { number: target.number, price: formatDecimal(target.price) })}
          </p>
        ))}
      {open.map((target, index) => (
        <Field key={target.number} label={t("exits.target", { number: target.number })} error={atTarget(index)}>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              name={`target-${target.number}`}
              value={prices[index]}
              onInput={(event) => setPrices(prices.map((price, i) => (i === index ? (event.target as HTMLInputElement).value : price)))}
              inputMode="decimal"
              autoComplete="off"
              aria-describedby={describedBy}
              aria-invalid={invalid}
            />
          )}
        </Field>
      ))}
      {error && !shownElsewhere ? <ErrorNote error={error} /> : null}
      <div class="form-actions">
        <button type="submit" class="button small" disabled={busy} aria-busy={busy}>
          {t("exits.save")}
        </button>
        <button type="button" class="button secondary small" onClick={onCancel}>
          {t("exits.cancel")}
        </button>
      </div>
    </form>
  );
}
