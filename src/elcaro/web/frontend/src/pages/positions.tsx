// Open positions with live PnL, resting orders, positions opened elsewhere, and a manual order.
//
// Trading events arrive on the websocket and refetch the list at once (a fill, a take-profit, a close).
// The mark price and PnL arrive on it too, as the server prices the positions (``marks``), and are applied
// to the positions shown without a refetch; only while the feed is not live are they polled instead.

import { useState } from "preact/hooks";
import { api, ApiError, idempotencyKey } from "../api";
import { clock, dateTime, formatDecimal, money, symbol } from "../format";
import { useLiveEvents, useLiveMarks, useLiveStatus, useResource, useSubmit, useVisibleInterval } from "../hooks";
import { t, tx } from "../i18n";
import type { LiveMark } from "../live";
import type { Done, Order, Position, PositionsPage } from "../types";
import { ExitsForm } from "./position_exits";
import { ChartLink } from "./chart";
import { ActionButton, Badge, Card, Empty, ErrorNote, Field, Figure, Loading, notify, Page, Pnl, SideBadge } from "../ui";

const MARKS_EVERY_MS = 5000; // polling, only while the live feed is down
const POSITION_EVENTS = [
  "entry_filled",
  "dca_filled",
  "take_profit",
  "partial_take_profit",
  "break_even",
  "stop_moved",
  "position_closed",
  "entry_cancelled",
];

function PositionCard({
  position,
  closing,
  onClose,
  onSaved,
}: {
  position: Position;
  closing: boolean;
  onClose: () => Promise<void>;
  onSaved: (position: Position) => void;
}) {
  const [editing, setEditing] = useState(false);
  const name = `${symbol(position.symbol)} ${tx("side", position.side)}`;
  return (
    <article class="position" data-testid={`position-${position.id}`} aria-label={name}>
      <header class="position-head">
        <h3>
          {symbol(position.symbol)} <SideBadge side={position.side} />
        </h3>
        <span class="position-pnl" data-testid="pnl">
          <Pnl value={position.unrealized_pnl} pct={position.change_pct} />
        </span>
      </header>
      <dl class="figures compact">
        <Figure label={t("positions.size")}>
          {formatDecimal(position.qty)} · {formatDecimal(position.leverage)}×
        </Figure>
        <Figure label={t("positions.entry")}>{formatDecimal(position.entry_price)}</Figure>
        <Figure label={t("positions.mark")}>
          <span data-testid="mark">{formatDecimal(position.mark_price)}</span>
        </Figure>
        <Figure label={t("positions.stop")}>{formatDecimal(position.stop_loss)}</Figure>
        <Figure label={t("positions.take_profit")}>{formatDecimal(position.take_profit)}</Figure>
        <Figure label={t("positions.liquidation")}>{formatDecimal(position.liquidation_price)}</Figure>
        {position.realized_pnl !== "0" ? (
          <Figure label={t("positions.realized")}>
            <Pnl value={position.realized_pnl} />
          </Figure>
        ) : null}
        <Figure label={t("positions.where")}>
          {tx("target", position.target ?? "", position.target ?? "—")} · {position.strategy ?? t("positions.manual")}
        </Figure>
        <Figure label={t("positions.opened")}>{dateTime(position.opened_at)}</Figure>
      </dl>
      {editing && !closing && position.id !== null ? (
        <ExitsForm
          position={position}
          onSaved={(value) => {
            onSaved(value);
            setEditing(false);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : null}
      <div class="position-actions">
        <ChartLink target={position.target} symbol={position.symbol} class="button secondary small" />
        {closing ? (
          <span class="muted" role="status">
            {t("positions.closing")}
          </span>
        ) : position.id !== null ? (
          <>
            {editing ? null : (
              <button type="button" class="button secondary small" aria-label={t("exits.edit_label", { name })} onClick={() => setEditing(true)}>
                {t("exits.edit")}
              </button>
            )}
            <ActionButton class="button danger small" onAction={onClose} confirm={t("positions.close_confirm", { name })} label={t("positions.close_label", { name })}>
              {t("positions.close")}
            </ActionButton>
          </>
        ) : null}
      </div>
    </article>
  );
}

/** ``page`` with the pushed figures of the positions it shows; the same object when none of them is among ``marks``. */
function withMarks(page: PositionsPage, marks: LiveMark[]): PositionsPage {
  const byId = new Map(marks.map((mark) => [mark.position_id, mark]));
  let changed = false;
  const items = page.items.map((item) => {
    const mark = item.id === null ? undefined : byId.get(item.id);
    if (!mark) return item;
    changed = true;
    return { ...item, mark_price: mark.mark_price, unrealized_pnl: mark.unrealized_pnl, change_pct: mark.change_pct };
  });
  return changed ? { ...page, items } : page;
}

function OpenPositions() {
  const [page, setPage] = useState(0);
  const [closing, setClosing] = useState<Set<number>>(new Set());
  const [updated, setUpdated] = useState<number | null>(null);
  const positions = useResource(async () => {
    const found = await api<PositionsPage>("/trading/positions", { query: { page, page_size: 50 } });
    setUpdated(Date.now());
    return found;
  }, [page]);
  useLiveEvents(() => void positions.reload(), { kinds: POSITION_EVENTS, onResync: positions.reload });
  useLiveMarks((marks) => {
    const shown = new Set(positions.data?.items.map((item) => item.id));
    const applied = marks.filter((mark) => shown.has(mark.position_id));
    if (applied.length === 0) return;
    positions.update((found) => withMarks(found, applied));
    setUpdated(Math.max(...applied.map((mark) => mark.at)));
  });
  const feed = useLiveStatus();
  useVisibleInterval(() => void positions.reload(), feed === "live" ? null : MARKS_EVERY_MS);

  const close = async (position: Position) => {
    if (position.id === null) return;
    const id = position.id;
    try {
      await api<Done>(`/trading/positions/${id}/close`, { method: "POST" });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        notify(t("positions.already_closed"), "info");
        await positions.reload();
        return;
      }
      throw error;
    }
    setClosing((set) => new Set(set).add(id));
    notify(t("positions.close_sent", { symbol: symbol(position.symbol) }), "info");
  };

  const items = positions.data?.items ?? [];
  const visibleClosing = new Set([...closing].filter((id) => items.some((item) => item.id === id)));

  return (
    <Card
      title={t("positions.open", { count: positions.data?.total ?? "…" })}
      actions={
        items.length > 0 ? (
          <ActionButton
            class="button danger secondary small"
            confirm={t("positions.close_all_confirm", { count: positions.data?.total ?? items.length })}
            onAction={async () => {
              const done = await api<Done>("/trading/positions/close-all", { method: "POST" });
              notify(t("positions.closing_all", { count: done.count ?? 0 }), "info");
              setClosing(new Set(items.map((item) => item.id).filter((id): id is number => id !== null)));
            }}
          >
            {t("positions.close_all")}
          </ActionButton>
        ) : null
      }
    >
      {positions.error ? <ErrorNote error={positions.error} onRetry={positions.reload} /> : null}
      {!positions.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <Empty>{t("positions.none")}</Empty>
      ) : (
        <>
          <p class="muted small" aria-live="off">
            {updated ? t("positions.prices_at", { time: clock(updated) }) : null}
          </p>
          <div class="positions" data-testid="positions">
            {items.map((position) => (
              <PositionCard
                key={position.id ?? position.symbol}
                position={position}
                closing={position.id !== null && visibleClosing.has(position.id)}
                onClose={() => close(position)}
                onSaved={(saved) =>
                  // The edit's answer goes into the list, so that the marks pushed next apply to it.
                  positions.update((found) => ({ ...found, items: found.items.map((item) => (item.id === saved.id ? saved : item)) }))
                }
              />
            ))}
          </div>
          {positions.data.pages > 1 ? (
            <nav class="pager" aria-label={t("common.pages")}>
              <button type="button" class="button secondary small" disabled={page === 0} onClick={() => setPage(page - 1)}>
                {t("common.previous")}
              </button>
              <span>{t("common.page_of", { page: page + 1, pages: positions.data.pages })}</span>
              <button
                type="button"
                class="button secondary small"
                disabled={page + 1 >= positions.data.pages}
                onClick={() => setPage(page + 1)}
              >
                {t("common.next")}
              </button>
            </nav>
          ) : null}
        </>
      )}
    </Card>
  );
}

function Orders() {
  const orders = useResource(() => api<Order[]>("/trading/orders"));
  useLiveEvents(() => void orders.reload(), { kinds: [...POSITION_EVENTS, "entry_placed"], onResync: orders.reload });
  return (
    <Card title={t("orders.title")}>
      {orders.error ? <ErrorNote error={orders.error} onRetry={orders.reload} /> : null}
      {!orders.data ? (
        <Loading />
      ) : orders.data.length === 0 ? (
        <Empty>{t("orders.none")}</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("history.symbol")}</th>
                <th scope="col">{t("history.side")}</th>
                <th scope="col">{t("orders.type")}</th>
                <th scope="col" class="num">
                  {t("orders.qty")}
                </th>
                <th scope="col" class="num">
                  {t("orders.price")}
                </th>
                <th scope="col">{t("orders.target")}</th>
                <th scope="col">
                  <span class="visually-hidden">{t("common.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {orders.data.map((order) => (
                <tr key={`${order.target}/${order.ref}`}>
                  <th scope="row">{symbol(order.symbol)}</th>
                  <td>
                    <SideBadge side={order.side} />
                  </td>
                  <td>
                    {tx("order_type", order.type)}
                    {order.reduce_only ? <Badge>{t("orders.reduce_only")}</Badge> : null}
                  </td>
                  <td class="num">
                    {formatDecimal(order.qty)}
                    {order.filled_qty !== "0" ? <span class="muted"> ({formatDecimal(order.filled_qty)})</span> : null}
                  </td>
                  <td class="num">{formatDecimal(order.price ?? order.trigger_price)}</td>
                  <td>{tx("target", order.target, order.target)}</td>
                  <td>
                    {order.managed ? (
                      <span class="muted" title={t("orders.managed_hint")}>
                        {t("orders.managed")}
                      </span>
                    ) : (
                      <ActionButton
                        class="button secondary small"
                        confirm={t("orders.cancel_confirm", { symbol: symbol(order.symbol) })}
                        onAction={async () => {
                          await api<Order>(`/trading/orders/${encodeURIComponent(order.target)}/${encodeURIComponent(order.ref)}`, {
                            method: "DELETE",
                          });
                          await orders.reload();
                        }}
                      >
                        {t("orders.cancel")}
                      </ActionButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function Unmanaged() {
  const found = useResource(() => api<Position[]>("/trading/positions/unmanaged"));
  if (found.error) return <ErrorNote error={found.error} onRetry={found.reload} />;
  if (!found.data || found.data.length === 0) return null;
  return (
    <Card title={t("unmanaged.title")}>
      <p class="muted">{t("unmanaged.hint")}</p>
      <ul class="plain-list">
        {found.data.map((position) => (
          <li key={`${position.target}/${position.symbol}`}>
            <span>
              {symbol(position.symbol)} <SideBadge side={position.side} /> {formatDecimal(position.qty)} @ {formatDecimal(position.entry_price)} ·{" "}
              {tx("target", position.target ?? "", position.target ?? "")}
            </span>
            <ActionButton
              class="button secondary small"
              onAction={async () => {
                await api("/trading/positions/adopt", { body: { target: position.target, symbol: position.symbol } });
                notify(t("unmanaged.adopted", { symbol: symbol(position.symbol) }), "ok");
                await found.reload();
              }}
            >
              {t("unmanaged.adopt")}
            </ActionButton>
          </li>
        ))}
      </ul>
    </Card>
  );
}

interface ManualOption {
  target: string;
  qty: string;
  price: string | null;
  reference_price: string;
  notional: string;
  stop_loss: string;
  leverage: number;
}

interface ManualPreview {
  symbol: string;
  side: string;
  order_type: string;
  options: ManualOption[];
}

function ManualOrder() {
  const [form, setForm] = useState({ symbol: "", side: "long", qty: "", price: "" });
  const [preview, setPreview] = useState<ManualPreview | null>(null);
  const { error, submit, fieldError } = useSubmit();
  const [intent, setIntent] = useState(idempotencyKey);
  const body = () => ({ symbol: form.symbol.trim(), side: form.side, qty: form.qty.trim(), price: form.price.trim() || null });
  const change = (key: keyof typeof form) => (event: Event) => {
    setForm({ ...form, [key]: (event.target as HTMLInputElement).value });
    setPreview(null);
    setIntent(idempotencyKey()); // a different order: a new intent
  };

  const check = (event: Event) => {
    event.preventDefault();
    void submit(async () => setPreview(await api<ManualPreview>("/trading/manual/preview", { body: body() })));
  };

  return (
    <Card title={t("manual.title")}>
      <form class="form-grid" onSubmit={check} noValidate>
        <Field label={t("manual.symbol")} error={fieldError("symbol")}>
          {({ id, describedBy, invalid }) => (
            <input id={id} value={form.symbol} onInput={change("symbol")} placeholder="BTCUSDT" autoCapitalize="characters" aria-describedby={describedBy} aria-invalid={invalid} required />
          )}
        </Field>
        <Field label={t("manual.side")}>
          {({ id }) => (
            <select id={id} value={form.side} onChange={change("side")}>
              <option value="long">{t("side.long")}</option>
              <option value="short">{t("side.short")}</option>
            </select>
          )}
        </Field>
        <Field label={t("manual.qty")} error={fieldError("qty")}>
          {({ id, describedBy, invalid }) => (
            <input id={id} value={form.qty} onInput={change("qty")} inputMode="decimal" aria-describedby={describedBy} aria-invalid={invalid} required />
          )}
        </Field>
        <Field label={t("manual.price")} hint={t("manual.price_hint")} error={fieldError("price")}>
          {({ id, describedBy, invalid }) => (
            <input id={id} value={form.price} onInput={change("price")} inputMode="decimal" aria-describedby={describedBy} aria-invalid={invalid} />
          )}
        </Field>
        <div class="form-actions">
          <button type="submit" class="button secondary">
            {t("manual.preview")}
          </button>
        </div>
      </form>
      {error && !error.field ? <ErrorNote error={error} /> : null}
      {preview ? (
        <ul class="plain-list">
          {preview.options.map((option) => (
            <li key={option.target}>
              <span>
                {tx("target", option.target, option.target)}: {formatDecimal(option.qty)} @ {formatDecimal(option.price ?? option.reference_price)} ·{" "}
                {t("manual.notional", { notional: money(option.notional) })} · {t("positions.stop")} {formatDecimal(option.stop_loss)} ·{" "}
                {option.leverage}×
              </span>
              <ActionButton
                class="button small"
                confirm={t("manual.place_confirm", { symbol: preview.symbol, target: option.target })}
                onAction={async () => {
                  await api("/trading/manual", { body: { ...body(), target: option.target, intent } });
                  notify(t("manual.placed", { symbol: symbol(preview.symbol) }), "ok");
                  setPreview(null);
                  setIntent(idempotencyKey());
                }}
              >
                {t("manual.place")}
              </ActionButton>
            </li>
          ))}
        </ul>
      ) : null}
    </Card>
  );
}

export function Positions() {
  return (
    <Page title={t("nav.positions")}>
      <OpenPositions />
      <Orders />
      <Unmanaged />
      <ManualOrder />
    </Page>
  );
}
