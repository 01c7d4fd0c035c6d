// Backtests on the platform's stored candles: the form, each run's progress, and the result — figures,
// the equity curve, the drawdown, and the candles with every entry and exit marked.

import { useMemo, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { CandleChart, LineChart, type Marker } from "../charts";
import { date, dateTime, float, fraction, isoDay, symbol, utcDay } from "../format";
import { useResource, useSubmit, useVisibleInterval } from "../hooks";
import { t, tx } from "../i18n";
import type { BacktestChart, BacktestRun } from "../types";
import { Badge, Card, Empty, ErrorNote, Field, Figure, Loading, Note, Page } from "../ui";

const POLL_MS = 1500;
const DAY = 86_400_000;

interface FormState {
  strategy: "breakout" | "donchian";
  preset: string;
  exchange: string;
  symbols: string;
  start: string;
  end: string;
  capital: string;
  scan_every: string;
  overrides: string;
}

function RunForm({ presets, onStarted }: { presets: string[]; onStarted: (run: BacktestRun) => void }) {
  const [form, setForm] = useState<FormState>({
    strategy: "breakout",
    preset: presets.includes("liquid") ? "liquid" : presets[0] ?? "",
    exchange: "",
    symbols: "",
    start: isoDay(Date.now() - 30 * DAY),
    end: isoDay(Date.now()),
    capital: "10000",
    scan_every: "12",
    overrides: "",
  });
  const { busy, error, submit, fieldError } = useSubmit({ within: (path, name) => path === name || path.startsWith(`${name}.`) });
  const set = (key: keyof FormState) => (event: Event) => setForm({ ...form, [key]: (event.target as HTMLInputElement).value });

  const launch = (event: Event) => {
    event.preventDefault();
    void submit(async () => {
      let overrides: Record<string, unknown> = {};
      if (form.overrides.trim()) {
        try {
          overrides = JSON.parse(form.overrides) as Record<string, unknown>;
        } catch {
          throw new ApiError(422, { error: { code: "invalid", field: "overrides", message: t("backtests.overrides_json") } });
        }
      }
      const start = utcDay(form.start);
      const end = utcDay(form.end);
      const run = await api<BacktestRun>("/backtests", {
        body: {
          strategy: form.strategy,
          preset: form.strategy === "breakout" ? form.preset || null : null,
          exchange: form.exchange.trim(),
          symbols: form.symbols
            .split(/[\s,;]+/)
            .map((item) => item.trim())
            .filter(Boolean),
          start: start ?? 0,
          end: end === null ? 0 : end + DAY, // the end day is included
          capital: Number(form.capital),
          scan_every: Number(form.scan_every),
          overrides,
        },
      });
      onStarted(run);
    });
  };

  return (
    <Card title={t("backtests.new")}>
      <form class="form-grid" onSubmit={launch} noValidate data-testid="backtest-form">
        <Field label={t("backtests.strategy")}>
          {({ id }) => (
            <select id={id} value={form.strategy} onChange={set("strategy")}>
              <option value="breakout">{t("backtests.breakout")}</option>
              <option value="donchian">{t("backtests.donchian")}</option>
            </select>
          )}
        </Field>
        {form.strategy === "breakout" ? (
          <Field label={t("backtests.preset")} error={fieldError("preset")}>
            {({ id, describedBy, invalid }) => (
              <select id={id} value={form.preset} onChange={set("preset")} aria-describedby={describedBy} aria-invalid={invalid}>
                {presets.map((preset) => (
                  <option key={preset} value={preset}>
                    {preset}
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <Field label={t("backtests.exchange")} hint={t("backtests.exchange_hint")} error={fieldError("exchange")}>
          {({ id, describedBy, invalid }) => (
            <input id={id} value={form.exchange} onInput={set("exchange")} placeholder="binance" autoCapitalize="off" aria-describedby={describedBy} aria-invalid={invalid} required />
          )}
        </Field>
        <Field label={t("backtests.symbols")} hint={t("backtests.symbols_hint")} error={fieldError("symbols")}>
          {({ id, describedBy, invalid }) => (
            <input id={id} value={form.symbols} onInput={set("symbols")} placeholder="BTC/USDT:USDT" autoCapitalize="characters" aria-describedby={describedBy} aria-invalid={invalid} required />
          )}
        </Field>
        <Field label={t("backtests.start")} error={fieldError("start")}>
          {({ id, describedBy, invalid }) => <input id={id} type="date" value={form.start} onInput={set("start")} aria-describedby={describedBy} aria-invalid={invalid} required />}
        </Field>
        <Field label={t("backtests.end")} hint={t("backtests.end_hint")} error={fieldError("end")}>
          {({ id, describedBy, invalid }) => <input id={id} type="date" value={form.end} onInput={set("end")} aria-describedby={describedBy} aria-invalid={invalid} required />}
        </Field>
        <Field label={t("backtests.capital")} error={fieldError("capital")}>
          {({ id, describedBy, invalid }) => <input id={id} value={form.capital} onInput={set("capital")} inputMode="decimal" aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <details class="wide">
          <summary>{t("backtests.advanced")}</summary>
          <div class="form-grid">
            <Field label={t("backtests.scan_every")} hint={t("backtests.scan_every_hint")} error={fieldError("scan_every")}>
              {({ id, describedBy, invalid }) => <input id={id} value={form.scan_every} onInput={set("scan_every")} inputMode="numeric" aria-describedby={describedBy} aria-invalid={invalid} />}
            </Field>
            <Field label={t("backtests.overrides")} hint={t("backtests.overrides_hint")} error={fieldError("overrides")}>
              {({ id, describedBy, invalid }) => (
                <textarea id={id} value={form.overrides} onInput={set("overrides")} rows={3} spellcheck={false} placeholder='{"risk.risk_per_trade": 0.5}' aria-describedby={describedBy} aria-invalid={invalid} />
              )}
            </Field>
          </div>
        </details>
        {error && !["preset", "exchange", "symbols", "start", "end", "capital", "scan_every", "overrides"].some((name) => fieldError(name)) ? (
          <ErrorNote error={error} />
        ) : null}
        <div class="form-actions">
          <button type="submit" class="button" disabled={busy} aria-busy={busy}>
            {t("backtests.run")}
          </button>
        </div>
      </form>
    </Card>
  );
}

function RunStatus({ run }: { run: BacktestRun }) {
  const percent = Math.round(run.progress * 100);
  return (
    <div class="run-status">
      <Badge kind={run.status === "done" ? "ok" : run.status === "failed" ? "short" : "info"}>{tx("run", run.status)}</Badge>
      {run.status === "queued" || run.status === "running" ? (
        <progress max={100} value={run.status === "queued" ? undefined : percent} aria-label={t("backtests.progress_of", { id: run.id })}>
          {percent} %
        </progress>
      ) : null}
      {run.status === "running" ? <span class="muted small">{percent} %</span> : null}
    </div>
  );
}

function tradeMarkers(chart: BacktestChart): Marker[] {
  return chart.trades.flatMap((trade) => [
    { time: trade.entry_time, kind: trade.side === "long" ? "entry-long" : "entry-short", text: tx("side", trade.side) } as Marker,
    { time: trade.exit_time, kind: "exit", text: `${trade.pnl >= 0 ? "+" : "−"}${float(Math.abs(trade.pnl))}` } as Marker,
  ]);
}

function Result({ run }: { run: BacktestRun }) {
  const [chosen, setChosen] = useState(run.symbols[0]);
  const chart = useResource(() => api<BacktestChart>(`/backtests/${run.id}/chart`, { query: { symbol: chosen } }), [run.id, chosen]);
  const metrics = run.metrics;
  const equity = useMemo(
    () => (chart.data ? [{ points: chart.data.equity_time.map((time, index) => ({ time, value: chart.data!.equity[index] })), area: true }] : []),
    [chart.data],
  );
  const drawdown = useMemo(
    () =>
      chart.data
        ? [{ points: chart.data.equity_time.map((time, index) => ({ time, value: -100 * Math.abs(chart.data!.drawdown[index]) })), colour: "#cf222e" }]
        : [],
    [chart.data],
  );
  const candles = useMemo(
    () =>
      chart.data
        ? chart.data.candle_time.map((time, index) => ({
            time,
            open: chart.data!.open[index],
            high: chart.data!.high[index],
            low: chart.data!.low[index],
            close: chart.data!.close[index],
          }))
        : [],
    [chart.data],
  );
  const markers = useMemo(() => (chart.data ? tradeMarkers(chart.data) : []), [chart.data]);

  return (
    <Card title={t("backtests.result", { strategy: run.strategy, symbols: run.symbols.map(symbol).join(", ") })} data-testid="backtest-result">
      {metrics ? (
        <dl class="figures figures-wide">
          <Figure label={t("backtests.total_return")}>{fraction(metrics.total_return, true)}</Figure>
          <Figure label={t("backtests.final_equity")}>{float(metrics.final_equity)}</Figure>
          <Figure label={t("stats.trades")}>{metrics.trades}</Figure>
          <Figure label={t("stats.win_rate")}>{fraction(metrics.win_rate)}</Figure>
          <Figure label={t("stats.profit_factor")}>{float(metrics.profit_factor)}</Figure>
          <Figure label={t("backtests.max_drawdown")}>{fraction(metrics.max_drawdown)}</Figure>
          <Figure label={t("backtests.sharpe")}>{float(metrics.sharpe)}</Figure>
          <Figure label={t("backtests.average_r")}>{float(metrics.average_r)}</Figure>
          <Figure label={t("backtests.exposure")}>{fraction(metrics.exposure)}</Figure>
        </dl>
      ) : null}
      {run.notes.length > 0 ? (
        <details>
          <summary>{t("backtests.notes")}</summary>
          <ul>
            {run.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </details>
      ) : null}
      {run.symbols.length > 1 ? (
        <Field label={t("backtests.chart_symbol")}>
          {({ id }) => (
            <select id={id} value={chosen} onChange={(event) => setChosen((event.target as HTMLSelectElement).value)}>
              {run.symbols.map((item) => (
                <option key={item} value={item}>
                  {symbol(item)}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      {chart.error ? <ErrorNote error={chart.error} onRetry={chart.reload} /> : null}
      {!chart.data ? (
        chart.error ? null : <Loading />
      ) : (
        <>
          <h3>{t("backtests.equity")}</h3>
          <LineChart series={equity} label={t("backtests.equity_label", { final: float(metrics?.final_equity) })} testId="backtest-equity" />
          <h3>{t("backtests.drawdown")}</h3>
          <LineChart series={drawdown} height={140} label={t("backtests.drawdown_label", { max: fraction(metrics?.max_drawdown) })} testId="backtest-drawdown" />
          <h3>{t("backtests.candles", { symbol: symbol(chart.data.symbol) })}</h3>
          <CandleChart
            candles={candles}
            markers={markers}
            label={t("backtests.candles_label", { symbol: symbol(chart.data.symbol), trades: chart.data.trades.length })}
            testId="backtest-candles"
          />
          {chart.data.trades.length === 0 ? (
            <Empty>{t("backtests.no_trades")}</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption>{t("backtests.trades")}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t("backtests.entry")}</th>
                    <th scope="col">{t("history.side")}</th>
                    <th scope="col" class="num">
                      {t("history.entry_exit")}
                    </th>
                    <th scope="col">{t("history.reason")}</th>
                    <th scope="col" class="num">
                      R
                    </th>
                    <th scope="col" class="num">
                      {t("history.net_pnl")}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {chart.data.trades.map((trade) => (
                    <tr key={`${trade.position}-${trade.exit_time}`}>
                      <td>{dateTime(trade.entry_time)}</td>
                      <td>{tx("side", trade.side)}</td>
                      <td class="num">
                        {float(trade.entry_price)} → {float(trade.exit_price)}
                      </td>
                      <td>{tx("exit", trade.exit_reason)}</td>
                      <td class="num">{float(trade.r_multiple)}</td>
                      <td class={`num pnl ${trade.pnl > 0 ? "up" : trade.pnl < 0 ? "down" : ""}`}>{float(trade.pnl)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </Card>
  );
}

export function Backtests() {
  const presets = useResource(() => api<string[]>("/backtests/presets"));
  const runs = useResource(() => api<BacktestRun[]>("/backtests"));
  const [selected, setSelected] = useState<string | null>(null);
  const active = runs.data?.some((run) => run.status === "queued" || run.status === "running") ?? false;
  useVisibleInterval(() => void runs.reload(), active ? POLL_MS : null);
  const shown = runs.data?.find((run) => run.id === selected && run.status === "done");

  return (
    <Page title={t("nav.backtests")}>
      {presets.error ? <ErrorNote error={presets.error} onRetry={presets.reload} /> : null}
      {presets.data ? (
        <RunForm
          presets={presets.data}
          onStarted={(run) => {
            setSelected(run.id);
            runs.set([run, ...(runs.data ?? []).filter((item) => item.id !== run.id)]);
          }}
        />
      ) : presets.error ? null : (
        <Loading />
      )}
      <Card title={t("backtests.runs")}>
        {runs.error ? <ErrorNote error={runs.error} onRetry={runs.reload} /> : null}
        {!runs.data ? (
          <Loading />
        ) : runs.data.length === 0 ? (
          <Empty>{t("backtests.none")}</Empty>
        ) : (
          <ul class="plain-list runs" data-testid="backtest-runs">
            {runs.data.map((run) => (
              <li key={run.id} class={run.id === selected ? "selected" : ""}>
                <div>
                  <strong>{run.strategy}</strong> · {run.symbols.map(symbol).join(", ")} · {run.timeframe}
                  <div class="muted small">
                    {date(run.start)} – {date(run.end - 1)} · {t("backtests.started", { when: dateTime(run.created_at) })}
                  </div>
                  {run.error ? <Note kind="error">{run.error}</Note> : null}
                </div>
                <RunStatus run={run} />
                {run.status === "done" ? (
                  <button type="button" class="button secondary small" aria-pressed={run.id === selected} onClick={() => setSelected(run.id)}>
                    {t("backtests.show")}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Card>
      {shown ? <Result key={shown.id} run={shown} /> : null}
    </Page>
  );
}
