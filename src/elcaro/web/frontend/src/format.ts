// Showing the API's figures: decimal strings stay exact (rounded as text, summed as integers), times in
// the reader's time zone, numbers with the separators of the chosen language.

import { language } from "./i18n";

interface Exact {
  units: bigint;
  scale: number;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal string as an integer of units and a scale (``"12.50"`` → 1250 × 10⁻²); null when not a number. */
export function parseExact(text: string | null | undefined): Exact | null {
  if (text === null || text === undefined) return null;
  const match = DECIMAL.exec(text.trim());
  if (!match || (!match[2] && !match[3])) return null;
  const digits = (match[2] || "") + (match[3] || "");
  let scale = (match[3] || "").length - Number(match[4] || 0);
  let units = BigInt(digits || "0");
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: match[1] === "-" ? -units : units, scale };
}

function toText({ units, scale }: Exact): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale ? digits.slice(digits.length - scale) : "";
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

function rescale(value: Exact, scale: number): Exact {
  if (scale >= value.scale) return { units: value.units * 10n ** BigInt(scale - value.scale), scale };
  const divisor = 10n ** BigInt(value.scale - scale);
  const negative = value.units < 0n;
  const magnitude = negative ? -value.units : value.units;
  let quotient = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) quotient += 1n; // half away from zero, as a person rounds
  return { units: negative ? -quotient : quotient, scale };
}

/** ``a + b`` of decimal strings, exactly. */
export function addExact(a: string, b: string): string {
  const x = parseExact(a);
  const y = parseExact(b);
  if (!x || !y) return x ? a : b;
  const scale = Math.max(x.scale, y.scale);
  return toText({ units: rescale(x, scale).units + rescale(y, scale).units, scale });
}

export function compareExact(a: string, b: string): number {
  const x = parseExact(a);
  const y = parseExact(b);
  if (!x || !y) return 0;
  const scale = Math.max(x.scale, y.scale);
  const difference = rescale(x, scale).units - rescale(y, scale).units;
  return difference === 0n ? 0 : difference > 0n ? 1 : -1;
}

export function sign(text: string | null | undefined): -1 | 0 | 1 {
  const value = parseExact(text);
  if (!value || value.units === 0n) return 0;
  return value.units > 0n ? 1 : -1;
}

function separators(): { group: string; decimal: string } {
  const parts = new Intl.NumberFormat(language()).formatToParts(12345.6);
  return {
    group: parts.find((part) => part.type === "group")?.value ?? ",",
    decimal: parts.find((part) => part.type === "decimal")?.value ?? ".",
  };
}

/** A decimal string for people: rounded to ``places`` (or as exact as given, trailing zeros dropped
 * down to ``minPlaces``), grouped in thousands; ``plus`` prefixes positive figures with "+". */
export function formatDecimal(
  text: string | null | undefined,
  { places, minPlaces = 0, plus = false }: { places?: number; minPlaces?: number; plus?: boolean } = {},
): string {
  const parsed = parseExact(text);
  if (!parsed) return "—";
  let value = places === undefined ? parsed : rescale(parsed, places);
  let plain = toText(value);
  if (plain.includes(".")) {
    let [whole, fraction] = plain.split(".");
    fraction = fraction.replace(/0+$/, "");
    if (fraction.length < minPlaces) fraction = fraction.padEnd(minPlaces, "0");
    plain = fraction ? `${whole}.${fraction}` : whole;
  } else if (minPlaces > 0) {
    plain = `${plain}.${"0".repeat(minPlaces)}`;
  }
  value = parseExact(plain) ?? value;
  const negative = plain.startsWith("-");
  const [whole, fraction] = plain.replace(/^-/, "").split(".");
  const { group, decimal } = separators();
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const isZero = value.units === 0n;
  const prefix = negative && !isZero ? "−" : plus && !isZero ? "+" : "";
  return `${prefix}${grouped}${fraction ? decimal + fraction : ""}`;
}

/** Money in the settle currency: two places. */
export function money(text: string | null | undefined, plus = false): string {
  return formatDecimal(text, { places: 2, minPlaces: 2, plus });
}

/** A percentage given in percent (``"1.5"`` → ``1.5 %``). */
export function percent(text: string | null | undefined, plus = false): string {
  return text === null || text === undefined ? "—" : `${formatDecimal(text, { places: 2, plus })} %`;
}

/** A fraction given as a float (``0.125`` → ``12.5 %``); for backtest figures. */
export function fraction(value: number | null | undefined, plus = false): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return percent((value * 100).toFixed(2), plus);
}

/** A float figure (backtests compute in float64). */
export function float(value: number | null | undefined, places = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return formatDecimal(value.toFixed(places), { places });
}

export function dateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms));
}

export function date(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium" }).format(new Date(ms));
}

export function clock(ms: number): string {
  return new Intl.DateTimeFormat(language(), { timeStyle: "medium" }).format(new Date(ms));
}

/** ``BTC/USDT:USDT`` → ``BTC/USDT``: the settle currency is always the quote here. */
export function symbol(text: string): string {
  return text.split(":")[0];
}

/** An ISO date (``YYYY-MM-DD``, as a date input gives it) as epoch ms at 00:00 UTC. */
export function utcDay(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : null;
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
