// Charts with TradingView's lightweight-charts, bundled with the app and loaded with the first chart.
// A chart is a picture to the accessibility tree: each one has a label saying what it shows, and the
// figures it draws are in a table or a list on the same page.

import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { IChartApi, SeriesMarker, Time, UTCTimestamp } from "lightweight-charts";
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

function baseOptions(height: number) {
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
      priceFormatter: (price: number) => new Intl.NumberFormat(document.documentElement.lang || "en", { maximumFractionDigits: 2 }).format(price),
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

function Frame({ label, height, host, failed, testId }: { label: string; height: number; host: RefObject<HTMLDivElement | null>; failed: boolean; testId?: string }) {
  return (
    <figure class="chart" data-testid={testId}>
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

/** Candles with the trades' entries and exits marked on them. */
export function CandleChart({
  candles,
  markers,
  label,
  height = 320,
  testId,
}: {
  candles: Candle[];
  markers: Marker[];
  label: string;
  height?: number;
  testId?: string;
}) {
  const { host, failed } = useChart(
    height,
    (lib, chart) => {
      const up = css("--up", "#1a7f37");
      const down = css("--down", "#cf222e");
      const series = chart.addSeries(lib.CandlestickSeries, {
        upColor: up,
        downColor: down,
        borderVisible: false,
        wickUpColor: up,
        wickDownColor: down,
      });
      series.setData(bySecond(candles));
      const marks: SeriesMarker<Time>[] = [...markers]
        .sort((a, b) => a.time - b.time)
        .map((marker) => ({
          time: seconds(marker.time),
          position: marker.kind === "entry-long" ? "belowBar" : "aboveBar",
          shape: marker.kind === "entry-long" ? "arrowUp" : marker.kind === "entry-short" ? "arrowDown" : "circle",
          color: marker.kind === "entry-long" ? up : marker.kind === "entry-short" ? down : css("--muted", "#8c959f"),
          text: marker.text,
        }));
      lib.createSeriesMarkers(series, marks);
    },
    [candles, markers, height],
  );
  return <Frame label={label} height={height} host={host} failed={failed} testId={testId} />;
}
