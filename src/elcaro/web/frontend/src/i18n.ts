// Every string a person reads, in English and Russian (like the bot's locales). A Russian entry missing
// for an English one is a type error, so the two tables cannot drift apart.

import { en } from "./locales/en";
import { ru } from "./locales/ru";

export type Key = keyof typeof en;
export type Language = "en" | "ru";

const TABLES: Record<Language, Record<Key, string>> = { en, ru };
export const LANGUAGES: Language[] = ["en", "ru"];

let current: Language = "en";
const listeners = new Set<(language: Language) => void>();

export function pickLanguage(...candidates: (string | null | undefined)[]): Language {
  for (const candidate of candidates) {
    const code = candidate?.toLowerCase().slice(0, 2);
    if (code === "en" || code === "ru") return code;
  }
  return "en";
}

export function language(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener(next));
}

export function onLanguage(listener: (language: Language) => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

function fill(template: string, params?: Record<string, string | number>): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The string ``key`` in the current language, with ``{name}`` placeholders filled from ``params``. */
export function t(key: Key, params?: Record<string, string | number>): string {
  return fill(TABLES[current][key] ?? en[key], params);
}

/** A label for a value the server names (``exit.stop_loss``, ``side.long`` …); the value itself when
 * there is no entry (or ``fallback`` when given), so a new server value still shows. */
export function tx(group: string, value: string, fallback?: string, params?: Record<string, string | number>): string {
  const key = `${group}.${value}` as Key;
  const found = TABLES[current][key] ?? en[key];
  return found === undefined ? (fallback ?? value) : fill(found, params);
}

/** ``{count} month(s)`` in the language's plural form (``base.one``, ``.few``, ``.many``, ``.other``). */
export function plural(base: "months", count: number): string {
  const form = new Intl.PluralRules(current).select(count);
  const key = `${base}.${form === "one" || form === "few" || form === "many" ? form : "other"}` as Key;
  return t(key, { count });
}
