// Charts with TradingView's lightweight-charts, bundled with the app and loaded with the first chart.
// A chart is a picture to the accessibility tree: each one has a label saying what it shows, and the
// figures it draws are in a table or a list on the same page.

import type { RefObject } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { IChartApi, IPriceLine, ISeriesApi, ISeriesMarkersPluginApi, SeriesMarker, Time, UTCTimestamp } from "lightweight-charts";
import { t } from "./i18n";

type Library = typeof import("lightweight-charts");
let library: Promise<Library> | null = null;

function load(): Promise<Library> {
  library = library ?? import("lightweight-charts");
  return library;
}

export interface Point {
  time: number; // epoch ms
  value: number;
}

export interface Candle {
  time: number; // epoch ms
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface Marker {
  time: number; // epoch ms
  kind: "entry-long" | "entry-short" | "exit";
  text: string;
  tone?: "up" | "down"; // an exit's result, when it is drawn in the colour of a gain or a loss
}

/** A horizontal line at a price an open position works at. */
export interface PriceLine {
  price: number;
  kind: "entry" | "stop" | "take_profit";
  title: string;
  done?: boolean; // a take-profit already reached: drawn faint
}

function css(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function seconds(ms: number): UTCTimestamp {
  return Math.floor(ms / 1000) as UTCTimestamp;
}

/** Points sorted by time, one per second (the chart's resolution): the last of each second wins. */
export function bySecond<T extends { time: number }>(points: T[]): (Omit<T, "time"> & { time: UTCTimestamp })[] {
  const seen = new Map<number, Omit<T, "time"> & { time: UTCTimestamp }>();
  for (const point of [...points].sort((a, b) => a.time - b.time)) {
    seen.set(seconds(point.time), { ...point, time: seconds(point.time) });
  }
  return [...seen.values()];
}

function baseOptions(height: number, digits = 2) {
  const text = css("--text", "#1f2328");
  const grid = css("--grid", "rgba(128,128,128,0.15)");
  return {
    height,
    autoSize: true,
    // The library's own logo needs an inline <style>, which the page's Content-Security-Policy refuses; the
    // attribution its licence asks for is the caption under every chart instead (see Frame).
    layout: { background: { color: "transparent" }, textColor: text, fontFamily: css("--font", "system-ui"), attributionLogo: false },
    grid: { vertLines: { color: grid }, horzLines: { color: grid } },
    rightPriceScale: { borderVisible: false },
    timeScale: { borderVisible: false, timeVisible: true, secondsVisible: false },
    localization: {
      locale: document.documentElement.lang || "en",
      priceFormatter: (price: number) => new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: digits }).format(price),
    },
  };
}

function useChart(height: number, draw: (lib: Library, chart: IChartApi) => void, deps: unknown[]) {
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let chart: IChartApi | null = null;
    let cancelled = false;
    load()
      .then((lib) => {
        if (cancelled || !host.current) return;
        chart = lib.createChart(host.current, baseOptions(height));
        draw(lib, chart);
        chart.timeScale().fitContent();
      })
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
      chart?.remove();
    };
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps
  return { host, failed };
}

function Frame({
  label,
  height,
  host,
  failed,
  testId,
  facts,
}: {
  label: string;
  height: number;
  host: RefObject<HTMLDivElement | null>;
  failed: boolean;
  testId?: string;
  facts?: Record<string, string | number>; // what is drawn, as data-* attributes (the canvas cannot say it)
}) {
  const data = Object.fromEntries(Object.entries(facts ?? {}).map(([name, value]) => [`data-${name}`, String(value)]));
  return (
    <figure class="chart" data-testid={testId} {...data}>
      <div class="chart-canvas" ref={host} role="img" aria-label={label} style={{ height: `${height}px` }} />
      {failed ? <p class="empty">{t("chart.unavailable")}</p> : null}
      <figcaption class="chart-credit">
        {t("chart.attribution")}{" "}
        <a href="https://www.tradingview.com/" target="_blank" rel="noopener noreferrer">
          TradingView Lightweight Charts™
        </a>{" "}
        · © TradingView, Inc.
      </figcaption>
    </figure>
  );
}

/** An area (or line) chart of one or more series over time. */
export function LineChart({
  series,
  label,
  height = 240,
  testId,
}: {
  series: { points: Point[]; colour?: string; area?: boolean; title?: string }[];
  label: string;
  height?: number;
  testId?: string;
}) {
  const { host, failed } = useChart(
    height,
    (lib, chart) => {
      for (const one of series) {
        const colour = one.colour ?? css("--accent", "#2f81f7");
        const data = bySecond(one.points);
        if (one.area) {
          const area = chart.addSeries(lib.AreaSeries, {
            lineColor: colour,
            topColor: `${colour}55`,
            bottomColor: `${colour}05`,
            lineWidth: 2,
            title: one.title,
          });
          area.setData(data);
        } else {
          chart.addSeries(lib.LineSeries, { color: colour, lineWidth: 2, title: one.title }).setData(data);
        }
      }
    },
    [series, height],
  );
  return <Frame label={label} height={height} host={host} failed={failed} testId={testId} />;
}

/** Each marker on the bar it happened in (the last one opened at or before it); those before the first bar are
 * left out, since the chart would pin them to its edge. */
export function onBars(candles: Candle[], markers: Marker[]): Marker[] {
  const times = candles.map((candle) => candle.time).sort((a, b) => a - b);
  const placed: Marker[] = [];
  for (const marker of markers) {
    let low = 0;
    let high = times.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (times[middle] <= marker.time) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found >= 0) placed.push({ ...marker, time: times[found] });
  }
  return placed.sort((a, b) => a.time - b.time);
}

interface Drawn {
  chart: IChartApi;
  series: ISeriesApi<"Candlestick">;
  marks: ISeriesMarkersPluginApi<Time>;
  lines: IPriceLine[];
  shown: { time: UTCTimestamp; open: number; high: number; low: number; close: number }[];
  dashed: number;
}

/** Candles with the trades' entries and exits marked on them, and an open position's prices as lines.
 *
 * The chart is made once; new candles that only extend or change its last bars are drawn into it, so a live
 * chart refreshing every few seconds keeps the reader's zoom and scroll. Any other change redraws it whole. */
export function CandleChart({
  candles,
  markers,
  lines = [],
  label,
  height = 320,
  digits = 2,
  testId,
}: {
  candles: Candle[];
  markers: Marker[];
  lines?: PriceLine[];
  label: string;
  height?: number;
  digits?: number;
  testId?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const drawn = useRef<Drawn | null>(null);
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState(false);
  const placed = useMemo(() => onBars(candles, markers), [candles, markers]);

  useEffect(() => {
    let cancelled = false;
    load()
      .then((lib) => {
        if (cancelled || !host.current) return;
        const chart = lib.createChart(host.current, baseOptions(height, digits));
        const up = css("--up", "#1a7f37");
        const down = css("--down", "#cf222e");
        const series = chart.addSeries(lib.CandlestickSeries, {
          upColor: up,
          downColor: down,
          borderVisible: false,
          wickUpColor: up,
          wickDownColor: down,
          priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits },
        });
        drawn.current = { chart, series, marks: lib.createSeriesMarkers(series, []), lines: [], shown: [], dashed: lib.LineStyle.Dashed };
        setReady(true);
      })
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
      drawn.current?.chart.remove();
      drawn.current = null;
      setReady(false);
    };
  }, [height, digits]);

  useEffect(() => {
    const view = drawn.current;
    if (!view) return;
    const next = bySecond(candles).map(({ time, open, high, low, close }) => ({ time, open, high, low, close }));
    const before = view.shown;
    const extends_ = before.length > 0 && next.length >= before.length && next[0].time === before[0].time;
    if (extends_) {
      for (const bar of next.slice(before.length - 1)) view.series.update(bar);
    } else {
      view.series.setData(next);
      view.chart.timeScale().fitContent();
    }
    view.shown = next;
  }, [ready, candles]);

  useEffect(() => {
    const view = drawn.current;
    if (!view) return;
    const up = css("--up", "#1a7f37");
    const down = css("--down", "#cf222e");
    const muted = css("--muted", "#8c959f");
    const marks: SeriesMarker<Time>[] = placed.map((marker) => ({
      time: seconds(marker.time),
      position: marker.kind === "entry-long" ? "belowBar" : "aboveBar",
      shape: marker.kind === "entry-long" ? "arrowUp" : marker.kind === "entry-short" ? "arrowDown" : "circle",
      color:
        marker.kind === "entry-long" || marker.tone === "up" ? up : marker.kind === "entry-short" || marker.tone === "down" ? down : muted,
      text: marker.text,
    }));
    view.marks.setMarkers(marks);
  }, [ready, placed]);

  useEffect(() => {
    const view = drawn.current;
    if (!view) return;
    for (const line of view.lines) view.series.removePriceLine(line);
    const colours = { entry: css("--accent", "#2f81f7"), stop: css("--down", "#cf222e"), take_profit: css("--up", "#1a7f37") };
    view.lines = lines.map((line) =>
      view.series.createPriceLine({
        price: line.price,
        color: line.done ? css("--muted", "#8c959f") : colours[line.kind],
        lineWidth: 1,
        lineStyle: view.dashed,
        axisLabelVisible: !line.done,
        title: line.title,
      }),
    );
  }, [ready, lines]);

  const last = candles.length ? Math.max(...candles.map((candle) => candle.time)) : 0;
  const facts = { candles: candles.length, markers: placed.length, lines: lines.length, last, ready: String(ready) };
  return <Frame label={label} height={height} host={host} failed={failed} testId={testId} facts={facts} />;
}
