// Inside Telegram: the Mini App's launch data and theme, without loading Telegram's script from its CDN.
//
// Telegram opens a Mini App with its launch parameters in the URL fragment (``#tgWebAppData=…&
// tgWebAppThemeParams=…``); that is where its own telegram-web-app.js reads them too. A client (or a page
// that did load that script) may also have put ``window.Telegram.WebApp`` in place: it is read first.
// Events to the client go through the same channels the official script uses.

const CACHE_KEY = "elcaro.telegram";
const TELEGRAM_ORIGIN = /^https:\/\/([a-z0-9-]+\.)*telegram\.org$/;

export interface ThemeParams {
  [name: string]: string | undefined;
}

interface LaunchParams {
  initData: string;
  theme: ThemeParams;
  platform: string;
}

interface TelegramGlobal {
  WebApp?: { initData?: string; themeParams?: ThemeParams; platform?: string };
  WebView?: { receiveEvent?: (type: string, data: unknown) => void };
}

declare global {
  interface Window {
    Telegram?: TelegramGlobal;
    TelegramWebviewProxy?: { postEvent: (type: string, data: string) => void };
  }
}

function fromFragment(): LaunchParams | null {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const initData = fragment.get("tgWebAppData");
  if (!initData) return null;
  let theme: ThemeParams = {};
  try {
    theme = JSON.parse(fragment.get("tgWebAppThemeParams") ?? "{}") as ThemeParams;
  } catch {
    theme = {};
  }
  return { initData, theme, platform: fragment.get("tgWebAppPlatform") ?? "unknown" };
}

function readLaunch(): LaunchParams | null {
  const injected = window.Telegram?.WebApp;
  if (injected?.initData) {
    return { initData: injected.initData, theme: injected.themeParams ?? {}, platform: injected.platform ?? "unknown" };
  }
  const found = fromFragment();
  if (found) {
    try {
      sessionStorage.setItem(CACHE_KEY, JSON.stringify(found));
    } catch {
      // no storage: a reload inside Telegram keeps the fragment anyway
    }
    // The fragment holds a signed login: take it out of the address bar (and of the history).
    history.replaceState(history.state, "", window.location.pathname + window.location.search);
    return found;
  }
  try {
    const cached = sessionStorage.getItem(CACHE_KEY);
    return cached ? (JSON.parse(cached) as LaunchParams) : null;
  } catch {
    return null;
  }
}

const launch = readLaunch();

/** True when the page was opened as a Telegram Mini App. */
export const insideTelegram = launch !== null;

/** The signed ``initData`` to log in with, when Telegram gave one. */
export function initData(): string | null {
  return launch?.initData ?? null;
}

/** The language Telegram reports for the person (``en``, ``ru`` …), read from the unsigned-for-us user field. */
export function telegramLanguage(): string | null {
  if (!launch) return null;
  try {
    const user = JSON.parse(new URLSearchParams(launch.initData).get("user") ?? "{}") as { language_code?: string };
    return user.language_code ?? null;
  } catch {
    return null;
  }
}

function postEvent(type: string, data: Record<string, unknown> = {}): void {
  try {
    if (window.TelegramWebviewProxy) {
      window.TelegramWebviewProxy.postEvent(type, JSON.stringify(data));
    } else if (window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType: type, eventData: data }), "*");
    }
  } catch {
    // not inside a Telegram client after all
  }
}

const THEME_VARIABLES: Record<string, string> = {
  bg_color: "--bg",
  secondary_bg_color: "--bg-2",
  section_bg_color: "--surface",
  text_color: "--text",
  hint_color: "--muted",
  subtitle_text_color: "--muted",
  link_color: "--link",
  accent_text_color: "--accent-text",
  button_color: "--accent",
  button_text_color: "--accent-contrast",
  destructive_text_color: "--danger",
  section_separator_color: "--border",
};

function luminance(hex: string): number {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!match) return 1;
  const value = parseInt(match[1], 16);
  const channel = (shift: number) => ((value >> shift) & 255) / 255;
  return 0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0);
}

function applyTheme(theme: ThemeParams): void {
  const root = document.documentElement;
  for (const [name, variable] of Object.entries(THEME_VARIABLES)) {
    const colour = theme[name];
    if (colour && /^#[0-9a-f]{3,8}$/i.test(colour)) root.style.setProperty(variable, colour);
  }
  if (theme.bg_color) root.dataset.scheme = luminance(theme.bg_color) < 0.5 ? "dark" : "light";
}

function onClientEvent(type: string, data: unknown): void {
  if (type === "theme_changed") {
    const theme = (data as { theme_params?: ThemeParams } | null)?.theme_params;
    if (theme) applyTheme(theme);
  }
}

/** Take Telegram's colours, listen for theme changes and tell the client the app is ready. */
export function startTelegram(): void {
  if (!launch) return;
  document.documentElement.dataset.telegram = launch.platform;
  applyTheme(launch.theme);
  window.Telegram = window.Telegram ?? {};
  const webView = (window.Telegram.WebView = window.Telegram.WebView ?? {});
  const previous = webView.receiveEvent;
  webView.receiveEvent = (type, data) => {
    onClientEvent(type, data);
    previous?.(type, data);
  };
  window.addEventListener("message", (message) => {
    // Only Telegram Web (the page that frames the app) may change its colours.
    if (typeof message.data !== "string" || !TELEGRAM_ORIGIN.test(message.origin)) return;
    try {
      const parsed = JSON.parse(message.data) as { eventType?: string; eventData?: unknown };
      if (parsed.eventType) onClientEvent(parsed.eventType, parsed.eventData);
    } catch {
      // not a Telegram event
    }
  });
  postEvent("web_app_ready");
  postEvent("web_app_expand");
}
