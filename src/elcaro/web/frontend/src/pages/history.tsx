// Closed trades, filtered and paged by the server: every filter is a query parameter of the history route,
// "load more" follows the page's cursor (however deep), and the filters live in the page's URL (?symbol=…)
// so a filtered view can be bookmarked or shared and survives a reload.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { addExact, dateTime, formatDecimal, isoDay, symbol, utcDay } from "../format";
import { t, tx } from "../i18n";
import type { ExecutionEntry, HistoryChoices, HistoryPage, Trade } from "../types";
import { Badge, Card, Empty, ErrorNote, Field, Loading, Page, Pnl, SideBadge } from "../ui";
import { useLiveEvents, useResource } from "../hooks";
import { ChartLink } from "./chart";

const PAGE_SIZE = 100;
const DAY_MS = 86_400_000;

const FILTER_KEYS = ["symbol", "side", "strategy", "target", "exit_reason", "result", "from", "to"] as const;
type Filters = Record<(typeof FILTER_KEYS)[number], string>;

const NO_FILTERS: Filters = { symbol: "", side: "", strategy: "", target: "", exit_reason: "", result: "", from: "", to: "" };

function filtersFromUrl(): Filters {
  const params = new URLSearchParams(window.location.search);
  const filters = { ...NO_FILTERS };
  for (const key of FILTER_KEYS) filters[key] = params.get(key) ?? "";
  return filters;
}

/** The filters in the address bar, without a new history entry per change (back leaves the page); the
 * fragment stays (Telegram's launch data lives there). */
function keepInUrl(filters: Filters): void {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) params.set(key, filters[key]);
  const search = params.toString() ? `?${params.toString()}` : "";
  if (search !== window.location.search) history.replaceState(history.state, "", window.location.pathname + search + window.location.hash);
}

/** The history route's query for the filters: whole UTC days, "to" inclusive. */
function query(filters: Filters): Record<string, string | number | undefined> {
  const from = utcDay(filters.from);
  const to = utcDay(filters.to);
  return {
    symbol: filters.symbol,
    side: filters.side,
    strategy: filters.strategy,
    target: filters.target,
    exit_reason: filters.exit_reason,
    result: filters.result,
    closed_since: from ?? undefined,
    closed_until: to === null ? undefined : to + DAY_MS,
  };
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
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const choices = useResource(() => api<HistoryChoices>("/trading/history/choices"));
  const generation = useRef(0);

  // ``after`` null: the first page again (filters changed, or a trade closed); answers to older requests are dropped.
  const load = async (after: string | null) => {
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const found = await api<HistoryPage>("/trading/history", {
        query: { ...query(filters), page_size: PAGE_SIZE, cursor: after ?? undefined },
      });
      if (mine !== generation.current) return;
      setTrades((list) => (after === null ? found.trades : [...list, ...found.trades]));
      setCursor(found.next_cursor);
    } catch (failure) {
      if (mine === generation.current) setError(failure);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  useEffect(() => {
    keepInUrl(filters);
    void load(null);
  }, [filters]);
  const reloadAll = () => {
    void load(null);
    void choices.reload();
  };
  useLiveEvents(reloadAll, { kinds: ["position_closed", "take_profit", "partial_take_profit"], onResync: reloadAll });

  const filtered = FILTER_KEYS.some((key) => filters[key] !== "");
  const total = useMemo(() => trades.reduce((sum, trade) => addExact(sum, trade.net_pnl), "0"), [trades]);
  const set = (key: keyof Filters) => (event: Event) => setFilters({ ...filters, [key]: (event.target as HTMLInputElement).value });
  const choice = (key: keyof Filters, label: string, values: string[], show: (value: string) => string = (value) => value) => (
    <Field label={label}>
      {({ id }) => (
        <select id={id} name={key} value={filters[key]} onChange={set(key)}>
          <option value="">{t("history.any")}</option>
          {[...new Set([...values, filters[key]].filter(Boolean))].map((value) => (
            <option key={value} value={value}>
              {show(value)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
  const offered = choices.data;

  return (
    <Page title={t("nav.history")}>
      <Card title={t("history.filters")}>
        <form class="form-grid filters" onSubmit={(event) => event.preventDefault()} aria-label={t("history.filters")}>
          {choice("symbol", t("history.symbol"), offered?.symbols ?? [], symbol)}
          {choice("side", t("history.side"), ["long", "short"], (value) => tx("side", value))}
          {choice("strategy", t("history.strategy"), offered?.strategies ?? [])}
          {choice("target", t("history.target"), offered?.targets ?? [], (value) => tx("target", value, value))}
          {choice("exit_reason", t("history.reason"), offered?.exit_reasons ?? [], (value) => tx("exit", value))}
          {choice("result", t("history.outcome"), ["win", "loss"], (value) => t(value === "win" ? "history.wins" : "history.losses"))}
          <Field label={t("history.from")}>{({ id }) => <input id={id} name="from" type="date" value={filters.from} max={filters.to || isoDay(Date.now())} onInput={set("from")} />}</Field>
          <Field label={t("history.to")}>{({ id }) => <input id={id} name="to" type="date" value={filters.to} min={filters.from} onInput={set("to")} />}</Field>
          <div class="form-actions">
            <button type="button" class="button secondary" onClick={() => setFilters(NO_FILTERS)}>
              {t("history.clear")}
            </button>
          </div>
        </form>
      </Card>
      <Card title={t("history.trades")}>
        <p role="status" data-testid="history-summary">
          {t(cursor ? "history.summary_more" : "history.summary", { count: trades.length })} <Pnl value={total} />
        </p>
        {error ? <ErrorNote error={error} onRetry={() => void load(trades.length > 0 ? cursor : null)} /> : null}
        {trades.length === 0 && loading ? <Loading /> : null}
        {trades.length === 0 && !loading && !error ? <Empty>{t(filtered ? "history.no_match" : "history.none")}</Empty> : null}
        {trades.length > 0 ? (
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
                {trades.map((trade) => (
                  <tr key={trade.id ?? `${trade.symbol}-${trade.closed_at}`}>
                    <td>{dateTime(trade.closed_at)}</td>
                    <th scope="row">
                      {symbol(trade.symbol)} <ChartLink target={trade.target} symbol={trade.symbol} class="small" />
                    </th>
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
        ) : null}
        {cursor && trades.length > 0 ? (
          <button type="button" class="button secondary" disabled={loading} aria-busy={loading} onClick={() => void load(cursor)}>
            {t("history.load_more")}
          </button>
        ) : null}
      </Card>
      <Executions />
    </Page>
  );
}
