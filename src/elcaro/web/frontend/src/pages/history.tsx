// Closed trades with filters. The history route pages newest first and takes no filters, so the filters
// apply to the trades loaded so far ("load more" fetches the next hundred); the summary says how many.

import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { addExact, dateTime, formatDecimal, isoDay, sign, symbol, utcDay } from "../format";
import { t, tx } from "../i18n";
import type { ExecutionEntry, HistoryPage, Trade } from "../types";
import { Badge, Card, Empty, ErrorNote, Field, Loading, Page, Pnl, SideBadge } from "../ui";
import { useLiveEvents, useResource } from "../hooks";

const PAGE_SIZE = 100;

interface Filters {
  symbol: string;
  side: string;
  strategy: string;
  target: string;
  outcome: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { symbol: "", side: "", strategy: "", target: "", outcome: "", from: "", to: "" };

function matches(trade: Trade, filters: Filters): boolean {
  if (filters.symbol && trade.symbol !== filters.symbol) return false;
  if (filters.side && trade.side !== filters.side) return false;
  if (filters.strategy && (trade.strategy ?? "") !== filters.strategy) return false;
  if (filters.target && trade.target !== filters.target) return false;
  if (filters.outcome === "win" && sign(trade.net_pnl) <= 0) return false;
  if (filters.outcome === "loss" && sign(trade.net_pnl) > 0) return false;
  const from = utcDay(filters.from);
  const to = utcDay(filters.to);
  if (from !== null && trade.closed_at < from) return false;
  if (to !== null && trade.closed_at >= to + 86_400_000) return false;
  return true;
}

function distinct(trades: Trade[], pick: (trade: Trade) => string | null): string[] {
  return [...new Set(trades.map(pick).filter((value): value is string => Boolean(value)))].sort();
}

const EXECUTION_KIND: Record<string, string> = { filled: "ok", closed: "ok", skipped: "info", failed: "short" };

/** What became of each signal the trader follows, on each target: copied, or skipped and why. */
function Executions() {
  const executions = useResource(() => api<ExecutionEntry[]>("/signals/executions", { query: { limit: 50 } }));
  useLiveEvents(() => void executions.reload(), { kinds: ["entry_placed", "entry_skipped", "entry_failed", "entry_filled", "position_closed"] });
  return (
    <Card title={t("executions.title")}>
      <p class="muted">{t("executions.hint")}</p>
      {executions.error ? <ErrorNote error={executions.error} onRetry={executions.reload} /> : null}
      {!executions.data ? (
        executions.error ? null : <Loading />
      ) : executions.data.length === 0 ? (
        <Empty>{t("executions.none")}</Empty>
      ) : (
        <ul class="plain-list" data-testid="executions">
          {executions.data.map((entry) => (
            <li key={entry.id}>
              <div>
                <strong>{entry.signal.symbol ? symbol(entry.signal.symbol) : `#${entry.signal.id}`}</strong>{" "}
                {entry.signal.side ? <SideBadge side={entry.signal.side} /> : null}{" "}
                <span class="muted">
                  {entry.signal.strategy ?? entry.signal.source_kind} · {tx("target", entry.target, entry.target)}
                </span>
                <div class="muted small">
                  {dateTime(entry.signal.received_at)}
                  {entry.reason_code || entry.reason ? ` · ${tx("reason", entry.reason_code ?? "", entry.reason ?? entry.reason_code ?? "")}` : ""}
                </div>
              </div>
              <Badge kind={EXECUTION_KIND[entry.status]}>{tx("execution", entry.status)}</Badge>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function History() {
  const [trades, setTrades] = useState<Trade[]>([]);
  const [page, setPage] = useState(0);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);

  const load = async (next: number, replace: boolean) => {
    setLoading(true);
    setError(null);
    try {
      const found = await api<HistoryPage>("/trading/history", { query: { page: next, page_size: PAGE_SIZE } });
      setTrades((list) => (replace ? found.trades : [...list, ...found.trades]));
      setPage(next);
      setHasMore(found.has_more && next < 49);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void load(0, true), []);
  useLiveEvents(() => void load(0, true), { kinds: ["position_closed", "take_profit", "partial_take_profit"], onResync: () => void load(0, true) });

  const shown = useMemo(() => trades.filter((trade) => matches(trade, filters)), [trades, filters]);
  const total = useMemo(() => shown.reduce((sum, trade) => addExact(sum, trade.net_pnl), "0"), [shown]);
  const set = (key: keyof Filters) => (event: Event) => setFilters({ ...filters, [key]: (event.target as HTMLInputElement).value });
  const choice = (key: keyof Filters, label: string, values: string[], show: (value: string) => string = (value) => value) => (
    <Field label={label}>
      {({ id }) => (
        <select id={id} value={filters[key]} onChange={set(key)}>
          <option value="">{t("history.any")}</option>
          {values.map((value) => (
            <option key={value} value={value}>
              {show(value)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  return (
    <Page title={t("nav.history")}>
      <Card title={t("history.filters")}>
        <form class="form-grid filters" onSubmit={(event) => event.preventDefault()} aria-label={t("history.filters")}>
          {choice("symbol", t("history.symbol"), distinct(trades, (trade) => trade.symbol), symbol)}
          {choice("side", t("history.side"), ["long", "short"], (value) => tx("side", value))}
          {choice("strategy", t("history.strategy"), distinct(trades, (trade) => trade.strategy))}
          {choice("target", t("history.target"), distinct(trades, (trade) => trade.target), (value) => tx("target", value, value))}
          {choice("outcome", t("history.outcome"), ["win", "loss"], (value) => t(value === "win" ? "history.wins" : "history.losses"))}
          <Field label={t("history.from")}>{({ id }) => <input id={id} type="date" value={filters.from} max={filters.to || isoDay(Date.now())} onInput={set("from")} />}</Field>
          <Field label={t("history.to")}>{({ id }) => <input id={id} type="date" value={filters.to} min={filters.from} onInput={set("to")} />}</Field>
          <div class="form-actions">
            <button type="button" class="button secondary" onClick={() => setFilters(NO_FILTERS)}>
              {t("history.clear")}
            </button>
          </div>
        </form>
      </Card>
      <Card title={t("history.trades")}>
        <p role="status" data-testid="history-summary">
          {t("history.summary", { shown: shown.length, loaded: trades.length })} <Pnl value={total} />
        </p>
        {error ? <ErrorNote error={error} onRetry={() => void load(page, false)} /> : null}
        {trades.length === 0 && loading ? <Loading /> : null}
        {trades.length === 0 && !loading && !error ? <Empty>{t("history.none")}</Empty> : null}
        {shown.length > 0 ? (
          <div class="table-wrap">
            <table class="history" data-testid="history-table">
              <thead>
                <tr>
                  <th scope="col">{t("history.closed")}</th>
                  <th scope="col">{t("history.symbol")}</th>
                  <th scope="col">{t("history.side")}</th>
                  <th scope="col" class="num">
                    {t("history.qty")}
                  </th>
                  <th scope="col" class="num">
                    {t("history.entry_exit")}
                  </th>
                  <th scope="col">{t("history.reason")}</th>
                  <th scope="col">{t("history.strategy")}</th>
                  <th scope="col" class="num">
                    {t("history.fees")}
                  </th>
                  <th scope="col" class="num">
                    {t("history.net_pnl")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((trade) => (
                  <tr key={trade.id ?? `${trade.symbol}-${trade.closed_at}`}>
                    <td>{dateTime(trade.closed_at)}</td>
                    <th scope="row">{symbol(trade.symbol)}</th>
                    <td>
                      <SideBadge side={trade.side} />
                    </td>
                    <td class="num">{formatDecimal(trade.qty)}</td>
                    <td class="num">
                      {formatDecimal(trade.entry_price)} → {formatDecimal(trade.exit_price)}
                    </td>
                    <td>{tx("exit", trade.exit_reason)}</td>
                    <td>{trade.strategy ?? "—"}</td>
                    <td class="num">{formatDecimal(trade.fees, { places: 2 })}</td>
                    <td class="num">
                      <Pnl value={trade.net_pnl} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : trades.length > 0 ? (
          <Empty>{t("history.no_match")}</Empty>
        ) : null}
        {hasMore && trades.length > 0 ? (
          <button type="button" class="button secondary" disabled={loading} aria-busy={loading} onClick={() => void load(page + 1, false)}>
            {t("history.load_more")}
          </button>
        ) : null}
      </Card>
      <Executions />
    </Page>
  );
}
