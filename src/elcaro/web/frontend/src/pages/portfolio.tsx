// The portfolio: balance on every target, the recorded equity curve, results over a period, and the realised
// PnL curve (kept beside the equity: it shows what trading earned, without deposits and withdrawals).

import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { LineChart, type Point } from "../charts";
import { addExact, dateTime, formatDecimal, money, percent } from "../format";
import { useLiveEvents, useResource, useVisibleInterval } from "../hooks";
import { t, tx } from "../i18n";
import { Link } from "../router";
import type { EquityCurve, PnlHistory, Stats, TargetBalance, TargetView } from "../types";
import { Card, Empty, ErrorNote, Field, Figure, Loading, Page, Pnl, Tabs } from "../ui";

/** The running total of realised PnL at the end of each day, for the chart (the total itself stays exact). */
function dailyPoints(history: PnlHistory): Point[] {
  return history.points.map((point) => ({ time: point.start, value: Number(point.cumulative) }));
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

type EquityPeriod = "day" | "week" | "month" | "quarter" | "year" | "all";
const EQUITY_PERIODS: EquityPeriod[] = ["day", "week", "month", "quarter", "year", "all"];
const ALL_TARGETS = "";

function negated(text: string): string {
  return text.startsWith("-") ? text.slice(1) : `-${text}`;
}

/** The recorded equity (every target added up, or one) over a rolling period, drawn from the server's points. */
function Equity() {
  const [period, setPeriod] = useState<EquityPeriod>("month");
  const [target, setTarget] = useState(ALL_TARGETS);
  const targets = useResource(() => api<TargetView[]>("/me/targets"));
  const curve = useResource(() => api<EquityCurve>("/statistics/equity", { query: { period, target } }), [period, target]);
  // A new point is recorded once an interval: look again as often (at most every five minutes).
  useVisibleInterval(() => void curve.reload(), curve.data ? Math.min(curve.data.interval_ms, 5 * 60_000) : null);
  const enabled = (targets.data ?? []).filter((item) => item.enabled).map((item) => item.target);
  const offered = target === ALL_TARGETS || enabled.includes(target) ? enabled : [target, ...enabled];
  const points = curve.data?.points ?? [];
  const first = points[0];
  const last = points[points.length - 1];
  const asset = curve.data?.asset ?? "";
  const series = useMemo(
    () => [{ points: (curve.data?.points ?? []).map((point) => ({ time: point.at, value: Number(point.equity) })), area: true }],
    [curve.data],
  );
  return (
    <Card
      title={t("portfolio.equity_curve")}
      data-testid="equity-card"
      actions={
        <Tabs
          label={t("portfolio.equity_period")}
          value={period}
          onChange={setPeriod}
          options={EQUITY_PERIODS.map((value) => ({ value, label: t(`equity_period.${value}`) }))}
        />
      }
    >
      {enabled.length > 1 ? (
        <div class="form-grid filters">
          <Field label={t("portfolio.equity_target")}>
            {({ id }) => (
              <select id={id} value={target} onChange={(event) => setTarget((event.target as HTMLSelectElement).value)}>
                <option value={ALL_TARGETS}>{t("portfolio.equity_all_targets")}</option>
                {offered.map((item) => (
                  <option key={item} value={item}>
                    {tx("target", item, item)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
      ) : null}
      {curve.error ? <ErrorNote error={curve.error} onRetry={curve.reload} /> : null}
      {!curve.data ? (
        curve.error ? null : <Loading />
      ) : !first || !last ? (
        <Empty>{t("portfolio.equity_empty", { minutes: Math.round(curve.data.interval_ms / 60_000) })}</Empty>
      ) : (
        <>
          <dl class="figures" data-testid="equity-figures">
            <Figure label={t("portfolio.equity_latest", { at: dateTime(last.at) })}>
              <strong data-testid="equity-latest">
                {money(last.equity)} {asset}
              </strong>
            </Figure>
            <Figure label={t("portfolio.equity_change", { since: dateTime(first.at) })}>
              <Pnl value={addExact(last.equity, negated(first.equity))} currency={asset || undefined} />
            </Figure>
          </dl>
          <LineChart
            series={series}
            label={t("portfolio.equity_curve_label", {
              count: points.length,
              since: dateTime(first.at),
              first: money(first.equity),
              last: money(last.equity),
            })}
            testId="equity-curve"
          />
          {points.length === 1 ? <p class="muted">{t("portfolio.equity_one_point", { minutes: Math.round(curve.data.interval_ms / 60_000) })}</p> : null}
        </>
      )}
    </Card>
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
  const history = useResource(() => api<PnlHistory>("/statistics/pnl", { query: { period: "all", bucket: "day" } }));
  useLiveEvents(() => void history.reload(), { kinds: ["position_closed", "take_profit", "partial_take_profit"] });
  const points = history.data?.points ?? [];
  const series = useMemo(() => (history.data ? [{ points: dailyPoints(history.data), area: true }] : []), [history.data]);
  const total = points.length > 0 ? points[points.length - 1].cumulative : "0";
  return (
    <Card title={t("portfolio.curve")}>
      {history.error ? <ErrorNote error={history.error} onRetry={history.reload} /> : null}
      {!history.data ? (
        <Loading />
      ) : points.length === 0 ? (
        <Empty>{t("portfolio.no_trades")}</Empty>
      ) : (
        <>
          <p class="muted">
            {t("portfolio.curve_note", {
              count: points.reduce((sum, point) => sum + point.trades, 0),
              since: dateTime(points[0].start),
            })}{" "}
            <Pnl value={total} />
          </p>
          <LineChart series={series} label={t("portfolio.curve_label", { total: money(total, true) })} testId="pnl-curve" />
        </>
      )}
    </Card>
  );
}

export function Portfolio() {
  return (
    <Page title={t("nav.portfolio")}>
      <Balances />
      <Equity />
      <Curve />
      <Results />
    </Page>
  );
}
