// The HTTP client: bearer tokens, one refresh at a time, and the API's one error shape.
//
// Tokens live in sessionStorage (this tab only, gone when it closes). The refresh token rotates on
// every use and a reused one ends the whole session on the server, so refreshing is serialised here.

import type { TokenPair } from "./types";

export const API = "/api/v1";
const STORE_KEY = "elcaro.session";
const REFRESH_MARGIN_MS = 60_000;

export interface Problem {
  field: string;
  message: string;
}

/** An error answer of the API: ``{"error": {"code", "message", "field"?, "params"?, "problems"?}}``. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  readonly params: Record<string, unknown>;
  readonly problems: Problem[];
  readonly retryAfter: number | null;

  constructor(status: number, body: unknown, retryAfter: number | null = null) {
    const error = (body as { error?: Record<string, unknown> } | null)?.error ?? {};
    super(typeof error.message === "string" ? error.message : `HTTP ${status}`);
    this.status = status;
    this.code = typeof error.code === "string" ? error.code : status === 0 ? "network" : "http_error";
    this.field = typeof error.field === "string" ? error.field : null;
    this.params = (error.params as Record<string, unknown>) ?? {};
    this.problems = Array.isArray(error.problems) ? (error.problems as Problem[]) : [];
    this.retryAfter = retryAfter;
  }
}

type Listener = (tokens: TokenPair | null) => void;

let tokens: TokenPair | null = readStored();
let refreshing: Promise<TokenPair | null> | null = null;
const listeners = new Set<Listener>();

function readStored(): TokenPair | null {
  try {
    const raw = sessionStorage.getItem(STORE_KEY);
    const parsed = raw ? (JSON.parse(raw) as TokenPair) : null;
    return parsed && parsed.refresh_expires_at > Date.now() ? parsed : null;
  } catch {
    return null;
  }
}

function store(next: TokenPair | null): void {
  tokens = next;
  try {
    if (next) sessionStorage.setItem(STORE_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(STORE_KEY);
  } catch {
    // storage may be off (private mode, a webview's settings): the session then lasts as long as the page
  }
  listeners.forEach((listener) => listener(next));
}

export function currentTokens(): TokenPair | null {
  return tokens;
}

export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function setSession(next: TokenPair): void {
  store(next);
}

/** Forget the tokens here and end the session on the server (best effort: it may be over already). */
export async function endSession(): Promise<void> {
  const held = tokens;
  store(null);
  if (held) {
    try {
      await fetch(`${API}/auth/logout`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: held.refresh_token }),
      });
    } catch {
      // offline: the refresh token expires on its own
    }
  }
}

/** New tokens for the refresh token; ``null`` (and logged out) when the server no longer accepts it. */
export function refreshTokens(): Promise<TokenPair | null> {
  if (refreshing) return refreshing;
  const held = tokens;
  if (!held) return Promise.resolve(null);
  refreshing = (async () => {
    try {
      const answer = await fetch(`${API}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: held.refresh_token }),
      });
      if (answer.ok) {
        const next = (await answer.json()) as TokenPair;
        store(next);
        return next;
      }
      if (answer.status === 401 || answer.status === 403) store(null);
      return null;
    } catch {
      return null; // offline: keep the tokens, the next request tries again
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** An access token good for the next minute, refreshed first when it is about to expire. */
export async function accessToken(): Promise<string | null> {
  if (!tokens) return null;
  if (tokens.access_expires_at - REFRESH_MARGIN_MS < Date.now()) {
    const next = await refreshTokens();
    return next?.access_token ?? tokens?.access_token ?? null;
  }
  return tokens.access_token;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined | string[]>;
  signal?: AbortSignal;
  auth?: boolean;
}

export function withQuery(path: string, query: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(key, item));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(API + withQuery(path, options.query), {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, { error: { code: "network", message: "network" } });
  }
}

/** Call the API; a 401 refreshes the tokens once and tries again. Errors are ``ApiError``. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const needsAuth = options.auth !== false;
  let answer = await send(path, options, needsAuth ? await accessToken() : null);
  if (answer.status === 401 && needsAuth && tokens) {
    const next = await refreshTokens();
    if (next) answer = await send(path, options, next.access_token);
  }
  if (answer.status === 204) return undefined as T;
  const text = await answer.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!answer.ok) {
    if (answer.status === 401 && needsAuth) store(null);
    const retry = Number(answer.headers.get("Retry-After"));
    throw new ApiError(answer.status, body, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return body as T;
}

/** A fresh idempotency key (intents, ledger keys): 32 hex characters. */
export function idempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
