// Logging in: with the Mini App's signed initData inside Telegram, or with the Telegram Login Widget's
// signed fields in a browser (handed back in the query string by the widget's ``data-auth-url``, or in
// ``#tgAuthResult=`` by Telegram's OAuth page). Nothing else logs anyone in.

import { api, endSession, setSession } from "./api";
import { initData } from "./telegram";
import type { TokenPair } from "./types";

export interface WidgetFields {
  id: number;
  auth_date: number;
  hash: string;
  first_name?: string;
  last_name?: string;
  username?: string;
  photo_url?: string;
}

const WIDGET_KEYS = ["id", "auth_date", "hash", "first_name", "last_name", "username", "photo_url"] as const;

function fromQuery(): WidgetFields | null {
  const query = new URLSearchParams(window.location.search);
  if (!query.get("hash") || !query.get("id") || !query.get("auth_date")) return null;
  const fields: Record<string, string | number> = {};
  for (const key of WIDGET_KEYS) {
    const value = query.get(key);
    if (value !== null) fields[key] = key === "id" || key === "auth_date" ? Number(value) : value;
  }
  return fields as unknown as WidgetFields;
}

function fromFragment(): WidgetFields | null {
  const match = /[#&]tgAuthResult=([^&]+)/.exec(window.location.hash);
  if (!match) return null;
  try {
    const padded = match[1].replace(/-/g, "+").replace(/_/g, "/");
    const parsed = JSON.parse(atob(padded + "=".repeat((4 - (padded.length % 4)) % 4))) as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const key of WIDGET_KEYS) if (parsed[key] !== undefined) fields[key] = parsed[key];
    return fields as unknown as WidgetFields;
  } catch {
    return null;
  }
}

/** The Login Widget's fields if Telegram just sent the reader back here with them (taken out of the URL). */
export function widgetResult(): WidgetFields | null {
  const found = fromQuery() ?? fromFragment();
  if (found) history.replaceState(history.state, "", window.location.pathname);
  return found;
}

export async function loginMiniApp(): Promise<TokenPair> {
  const data = initData();
  if (!data) throw new Error("not inside Telegram");
  const tokens = await api<TokenPair>("/auth/telegram/mini-app", { body: { init_data: data }, auth: false });
  setSession(tokens);
  return tokens;
}

export async function loginWidget(fields: WidgetFields): Promise<TokenPair> {
  const tokens = await api<TokenPair>("/auth/telegram/widget", { body: fields, auth: false });
  setSession(tokens);
  return tokens;
}

let loggedOut = false;

/** Log out on purpose: the login page then waits to be asked instead of logging straight back in. */
export async function logout(): Promise<void> {
  loggedOut = true;
  await endSession();
}

/** Whether the login page may log in by itself (not right after the person logged out). */
export function mayLogInAutomatically(): boolean {
  return !loggedOut;
}
