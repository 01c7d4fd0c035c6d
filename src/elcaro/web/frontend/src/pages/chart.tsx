// A live candle chart of one symbol on one target, with the trader's own entries and exits marked and an open
// position's entry, stop and take-profit prices drawn as lines. The last candles are fetched again every few
// seconds while the page is visible; the marks when a trading event on the symbol arrives.
//
// The chart's choices live in the address (/chart?target=…&symbol=…&timeframe=…), so a position card or a trade
// row can link straight to it and a reload shows the same chart.

import { useMemo, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { CandleChart, type Marker, type PriceLine } from "../charts";
import { dateTime, formatDecimal, money, sign, symbol as shortSymbol } from "../format";
import { useLiveEvents, useResource, useVisibleInterval } from "../hooks";
import { t, tx, type Key } from "../i18n";
import { Link, navigate } from "../router";
import type { ChartLevel, ChartMark, ChartMarks, MarketCandle, MarketCandles, PositionsPage, TargetView } from "../types";
import { Card, Empty, ErrorNote, Field, Loading, Note, Page, Pnl, SideBadge } from "../ui";

export const TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d"];
const DEFAULT_TIMEFRAME = "15m";
const CANDLES = 300;
const REFRESH_MS = 5_000;
const FRESH_BARS = 3; // enough to close the bar that was forming and start the next
const MARK_EVENTS = ["entry_filled", "partial_take_profit", "dca_filled", "position_closed", "stop_moved"];
const SHOWN_MARKS = 20;

interface Choice {
  target: string;
  symbol: string;
  timeframe: string;
}

/** The address of the chart of ``symbol`` on ``target``. */
export function chartPath(target: string | null, symbol: string, timeframe = DEFAULT_TIMEFRAME): string {
  const query = new URLSearchParams({ symbol, timeframe });
  if (target) query.set("target", target);
  return `/chart?${query.toString()}`;
}

/** A link from a position or a trade to its chart. */
export function ChartLink({ target, symbol, class: className }: { target: string | null; symbol: string; class?: string }) {
  return (
    <Link to={chartPath(target, symbol)} class={className} label={t("chart.open_label", { symbol: shortSymbol(symbol) })}>
      {t("chart.open")}
    </Link>
  );
}

function fromAddress(): Partial<Choice> {
  const query = new URLSearchParams(window.location.search);
  const timeframe = query.get("timeframe") ?? "";
  return {
    target: query.get("target") || undefined,
    symbol: query.get("symbol") || undefined,
    timeframe: TIMEFRAMES.includes(timeframe) ? timeframe : undefined,
  };
}

/** The newest bars in place of the ones they update; ``null`` when they do not join the held ones (a long pause). */
function joined(held: MarketCandle[], fresh: MarketCandle[]): MarketCandle[] | null {
  if (fresh.length === 0) return held;
  if (held.length > 0 && fresh[0].time > held[held.length - 1].time) return null;
  return [...held.filter((candle) => candle.time < fresh[0].time), ...fresh].slice(-1000);
}

/** Decimal places the venue quotes this symbol with (at least 2, as money is shown). */
function placesOf(candles: MarketCandle[]): number {
  let places = 2;
  for (const candle of candles.slice(-50)) {
    for (const price of [candle.open, candle.high, candle.low, candle.close]) {
      places = Math.max(places, (price.split(".")[1] ?? "").length);
    }
  }
  return Math.min(places, 8);
}

function refusal(error: unknown): string | null {
  if (!(error instanceof ApiError) || !error.code.startsWith("chart.")) return null;
  const params = Object.fromEntries(Object.entries(error.params).map(([key, value]) => [key, String(value)]));
  return tx("chart.refused", error.code.slice("chart.".length), error.message, params);
}

function markers(marks: ChartMark[]): Marker[] {
  return marks.map((mark) =>
    mark.kind === "entry"
      ? { time: mark.time, kind: mark.side === "long" ? "entry-long" : "entry-short", text: tx("side", mark.side) }
      : { time: mark.time, kind: "exit", text: money(mark.net_pnl, true), tone: sign(mark.net_pnl) >= 0 ? "up" : "down" },
  );
}

function levelName(level: ChartLevel): string {
  return level.kind === "take_profit" ? t("chart.level_take_profit", { n: (level.index ?? 0) + 1 }) : t(`chart.level_${level.kind}` as Key);
}

function priceLines(levels: ChartLevel[]): PriceLine[] {
  return levels.map((level) => ({ price: Number(level.price), kind: level.kind, title: levelName(level), done: level.hit }));
}

function Picker({ choice, onChoose }: { choice: Choice; onChoose: (next: Choice) => void }) {
  const targets = useResource(() => api<TargetView[]>("/me/targets"));
  const positions = useResource(() => api<PositionsPage>("/trading/positions", { query: { page_size: 100 } }));
  const [typed, setTyped] = useState(choice.symbol);
  const enabled = (targets.data ?? []).filter((item) => item.enabled).map((item) => item.target);
  const offered = enabled.includes(choice.target) ? enabled : [choice.target, ...enabled];
  const symbols = [...new Set((positions.data?.items ?? []).map((position) => position.symbol))].sort();
  return (
    <form
      class="form-grid filters"
      data-testid="chart-picker"
      onSubmit={(event) => {
        event.preventDefault();
        if (typed.trim()) onChoose({ ...choice, symbol: typed.trim() });
      }}
    >
      <Field label={t("chart.target")}>
        {({ id }) => (
          <select id={id} value={choice.target} onChange={(event) => onChoose({ ...choice, target: (event.target as HTMLSelectElement).value })}>
            {offered.map((target) => (
              <option key={target} value={target}>
                {target}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("chart.symbol")} hint={t("chart.symbol_hint")}>
        {({ id, describedBy }) => (
          <>
            <input
              id={id}
              name="symbol"
              value={typed}
              list={`${id}-known`}
              autoComplete="off"
              aria-describedby={describedBy}
              onInput={(event) => setTyped((event.target as HTMLInputElement).value)}
            />
            <datalist id={`${id}-known`}>
              {symbols.map((item) => (
                <option key={item} value={item} />
              ))}
            </datalist>
          </>
        )}
      </Field>
      <Field label={t("chart.timeframe")}>
        {({ id }) => (
          <select id={id} value={choice.timeframe} onChange={(event) => onChoose({ ...choice, timeframe: (event.target as HTMLSelectElement).value })}>
            {TIMEFRAMES.map((timeframe) => (
              <option key={timeframe} value={timeframe}>
                {timeframe}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div class="form-actions">
        <button type="submit" class="button">
          {t("chart.show")}
        </button>
      </div>
    </form>
  );
}

function Levels({ levels }: { levels: ChartLevel[] }) {
  if (levels.length === 0) return null;
  return (
    <dl class="figures" data-testid="chart-levels">
      {levels.map((level) => (
        <div key={`${level.kind}-${level.index ?? ""}`} class={level.hit ? "muted" : undefined}>
          <dt>{levelName(level)}</dt>
          <dd>
            {formatDecimal(level.price)}
            {level.hit ? ` · ${t("chart.level_hit")}` : ""}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Marks({ marks }: { marks: ChartMark[] }) {
  if (marks.length === 0) return <Empty>{t("chart.no_marks")}</Empty>;
  const newest = [...marks].reverse().slice(0, SHOWN_MARKS);
  return (
    <div class="table-wrap">
      <table data-testid="chart-marks">
        <caption>{t("chart.marks")}</caption>
        <thead>
          <tr>
            <th scope="col">{t("chart.when")}</th>
            <th scope="col">{t("chart.mark")}</th>
            <th scope="col">{t("history.side")}</th>
            <th scope="col" class="num">
              {t("chart.price")}
            </th>
            <th scope="col" class="num">
              {t("history.net_pnl")}
            </th>
          </tr>
        </thead>
        <tbody>
          {newest.map((mark) => (
            <tr key={`${mark.kind}-${mark.time}-${mark.trade_id ?? mark.position_id ?? ""}`} data-kind={mark.kind}>
              <td>{dateTime(mark.time)}</td>
              <td>{mark.kind === "entry" ? t("chart.mark_entry") : tx("exit", mark.exit_reason ?? "", t("chart.mark_exit"))}</td>
              <td>
                <SideBadge side={mark.side} />
              </td>
              <td class="num">{formatDecimal(mark.price)}</td>
              <td class="num">{mark.kind === "exit" ? <Pnl value={mark.net_pnl} /> : "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Chart() {
  const [choice, setChoice] = useState<Choice>(() => {
    const asked = fromAddress();
    return {
      target: asked.target ?? "bybit:paper",
      symbol: asked.symbol ?? "BTC/USDT:USDT",
      timeframe: asked.timeframe ?? DEFAULT_TIMEFRAME,
    };
  });
  const choose = (next: Choice) => {
    setChoice(next);
    navigate(chartPath(next.target, next.symbol, next.timeframe), { replace: true });
  };
  const { target, symbol, timeframe } = choice;
  const candles = useResource(
    () => api<MarketCandles>("/market/candles", { query: { target, symbol, timeframe, limit: CANDLES } }),
    [target, symbol, timeframe],
  );
  const held = candles.data?.candles ?? [];
  const since = held.length ? held[0].time : undefined;
  const marks = useResource(
    () => api<ChartMarks>("/market/marks", { query: { target, symbol, ...(since === undefined ? {} : { since }) } }),
    [target, symbol, since],
  );

  useVisibleInterval(
    () => {
      const shown = candles.data;
      if (!shown || candles.loading) return;
      api<MarketCandles>("/market/candles", { query: { target, symbol, timeframe, limit: FRESH_BARS } })
        .then((fresh) => {
          if (fresh.symbol !== shown.symbol || fresh.timeframe !== shown.timeframe || fresh.target !== shown.target) return;
          const next = joined(shown.candles, fresh.candles);
          if (next === null) void candles.reload();
          else candles.set({ ...shown, candles: next });
        })
        .catch(() => undefined); // a missed refresh is made good by the next one
    },
    candles.data && !candles.error ? REFRESH_MS : null,
  );
  useLiveEvents(
    (event) => {
      if (!event.symbol || event.symbol === candles.data?.symbol) void marks.reload();
    },
    { kinds: MARK_EVENTS },
  );

  const bars = useMemo(
    () => held.map((candle) => ({ time: candle.time, open: Number(candle.open), high: Number(candle.high), low: Number(candle.low), close: Number(candle.close) })),
    [held],
  );
  const drawnMarks = useMemo(() => markers(marks.data?.marks ?? []), [marks.data]);
  const lines = useMemo(() => priceLines(marks.data?.levels ?? []), [marks.data]);
  const places = useMemo(() => placesOf(held), [held]);
  const name = shortSymbol(candles.data?.symbol ?? symbol);
  const refused = refusal(candles.error);

  return (
    <Page title={t("chart.title")}>
      <Card>
        <Picker key={`${target}|${symbol}`} choice={choice} onChoose={choose} />
      </Card>
      <Card title={t("chart.heading", { symbol: name, timeframe, target })} data-testid="chart-card">
        {refused ? <Note kind="error">{refused}</Note> : candles.error ? <ErrorNote error={candles.error} onRetry={candles.reload} /> : null}
        {!candles.data ? (
          candles.error ? null : <Loading />
        ) : held.length === 0 ? (
          <Empty>{t("chart.no_candles")}</Empty>
        ) : (
          <CandleChart
            candles={bars}
            markers={drawnMarks}
            lines={lines}
            digits={places}
            height={380}
            label={t("chart.label", { symbol: name, timeframe, count: held.length, marks: drawnMarks.length })}
            testId="live-chart"
          />
        )}
        {marks.error ? <ErrorNote error={marks.error} onRetry={marks.reload} /> : null}
        {marks.data ? (
          <>
            <Levels levels={marks.data.levels} />
            <Marks marks={marks.data.marks} />
          </>
        ) : null}
      </Card>
    </Page>
  );
}
