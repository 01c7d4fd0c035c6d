// The portfolio: balance on every target, results over a period, and the realised PnL curve.

import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { LineChart, type Point } from "../charts";
import { addExact, dateTime, formatDecimal, money, percent } from "../format";
import { useLiveEvents, useResource } from "../hooks";
import { t, tx } from "../i18n";
import { Link } from "../router";
import type { HistoryPage, Stats, TargetBalance, Trade } from "../types";
import { Card, Empty, ErrorNote, Figure, Loading, Page, Pnl, Tabs } from "../ui";

const MAX_PAGES = 50; // the history route pages up to 49 (5,000 trades at 100 a page)

/** Every closed trade the history route gives, oldest first. */
export async function allTrades(): Promise<{ trades: Trade[]; complete: boolean }> {
  const trades: Trade[] = [];
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const found = await api<HistoryPage>("/trading/history", { query: { page, page_size: 100 } });
    trades.push(...found.trades);
    if (!found.has_more) return { trades: trades.reverse(), complete: true };
  }
  return { trades: trades.reverse(), complete: false };
}

/** Cumulative net PnL after each closed trade, summed exactly and only then drawn. */
export function cumulative(trades: Trade[]): { points: Point[]; total: string } {
  let total = "0";
  const points: Point[] = [];
  for (const trade of trades) {
    total = addExact(total, trade.net_pnl);
    points.push({ time: trade.closed_at, value: Number(total) });
  }
  return { points, total };
}

function Balances() {
  const balances = useResource(() => api<TargetBalance[]>("/trading/balances"));
  useLiveEvents(() => void balances.reload(), { kinds: ["position_closed", "entry_filled"], onResync: balances.reload });
  if (balances.error) return <ErrorNote error={balances.error} onRetry={balances.reload} />;
  if (!balances.data) return <Loading />;
  if (balances.data.length === 0) {
    return (
      <Card title={t("portfolio.balances")}>
        <Empty>
          {t("portfolio.no_targets")} <Link to="/exchanges">{t("portfolio.choose_target")}</Link>
        </Empty>
      </Card>
    );
  }
  return (
    <div class="grid">
      {balances.data.map((item) => (
        <Card key={item.target} title={tx("target", item.target, item.target)} data-testid={`balance-${item.target}`}>
          {item.balance ? (
            <dl class="figures">
              <Figure label={t("portfolio.equity")}>
                <strong>
                  {money(item.balance.equity)} {item.balance.asset}
                </strong>
              </Figure>
              <Figure label={t("portfolio.available")}>
                {money(item.balance.available)} {item.balance.asset}
              </Figure>
              <Figure label={t("portfolio.unrealized")}>
                <Pnl value={item.balance.unrealized_pnl} currency={item.balance.asset} />
              </Figure>
            </dl>
          ) : (
            <p class="muted">{tx("portfolio.unreadable", item.error ?? "", t("portfolio.unreadable_other", { reason: item.error ?? "" }))}</p>
          )}
        </Card>
      ))}
    </div>
  );
}

type Period = "today" | "week" | "month" | "all";

function Results() {
  const [period, setPeriod] = useState<Period>("all");
  const stats = useResource(() => api<Stats>("/statistics", { query: { period } }), [period]);
  useLiveEvents(() => void stats.reload(), { kinds: ["position_closed", "take_profit", "partial_take_profit"] });
  const overall = stats.data?.overall;
  return (
    <Card
      title={t("portfolio.results")}
      actions={
        <Tabs
          label={t("portfolio.period")}
          value={period}
          onChange={setPeriod}
          options={(["today", "week", "month", "all"] as Period[]).map((value) => ({ value, label: t(`period.${value}`) }))}
        />
      }
    >
      {stats.error ? <ErrorNote error={stats.error} onRetry={stats.reload} /> : null}
      {!overall ? (
        <Loading />
      ) : overall.count === 0 ? (
        <Empty>{t("portfolio.no_trades_in_period")}</Empty>
      ) : (
        <>
          <dl class="figures figures-wide">
            <Figure label={t("stats.net_pnl")}>
              <Pnl value={overall.total_pnl} />
            </Figure>
            <Figure label={t("stats.trades")}>
              {overall.count} <span class="muted">({t("stats.won_lost", { wins: overall.wins, losses: overall.losses })})</span>
            </Figure>
            <Figure label={t("stats.win_rate")}>{percent(overall.win_rate)}</Figure>
            <Figure label={t("stats.profit_factor")}>{formatDecimal(overall.profit_factor, { places: 2 })}</Figure>
            <Figure label={t("stats.best")}>
              <Pnl value={overall.best} />
            </Figure>
            <Figure label={t("stats.worst")}>
              <Pnl value={overall.worst} />
            </Figure>
            <Figure label={t("stats.fees")}>{money(overall.fees)}</Figure>
            <Figure label={t("stats.long_short")}>
              <Pnl value={overall.long.pnl} /> / <Pnl value={overall.short.pnl} />
            </Figure>
          </dl>
          <div class="table-wrap">
            <table>
              <caption>{t("stats.by_strategy")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("history.strategy")}</th>
                  <th scope="col" class="num">
                    {t("stats.trades")}
                  </th>
                  <th scope="col" class="num">
                    {t("stats.win_rate")}
                  </th>
                  <th scope="col" class="num">
                    {t("stats.net_pnl")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(stats.data?.by_strategy ?? {}).map(([name, figures]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td class="num">{figures.count}</td>
                    <td class="num">{percent(figures.win_rate)}</td>
                    <td class="num">
                      <Pnl value={figures.total_pnl} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}

function Curve() {
  const history = useResource(allTrades);
  useLiveEvents(() => void history.reload(), { kinds: ["position_closed", "take_profit", "partial_take_profit"] });
  const curve = useMemo(() => (history.data ? cumulative(history.data.trades) : null), [history.data]);
  const series = useMemo(() => (curve ? [{ points: curve.points, area: true }] : []), [curve]);
  return (
    <Card title={t("portfolio.curve")}>
      {history.error ? <ErrorNote error={history.error} onRetry={history.reload} /> : null}
      {!curve ? (
        <Loading />
      ) : curve.points.length === 0 ? (
        <Empty>{t("portfolio.no_trades")}</Empty>
      ) : (
        <>
          <p class="muted">
            {t("portfolio.curve_note", {
              count: curve.points.length,
              since: dateTime(history.data?.trades[0]?.closed_at),
            })}{" "}
            <Pnl value={curve.total} />
          </p>
          <LineChart series={series} label={t("portfolio.curve_label", { total: money(curve.total, true) })} testId="pnl-curve" />
          {history.data && !history.data.complete ? <p class="muted">{t("portfolio.curve_partial")}</p> : null}
        </>
      )}
    </Card>
  );
}

export function Portfolio() {
  return (
    <Page title={t("nav.portfolio")}>
      <Balances />
      <Curve />
      <Results />
    </Page>
  );
}
