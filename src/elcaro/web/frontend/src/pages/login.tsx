// Logging in. Inside Telegram it happens at once with the Mini App's signed data; in a browser through
// Telegram's login page, which sends the reader back with signed fields (``#tgAuthResult=``). There is no
// way in without Telegram's signature.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { t, tx } from "../i18n";
import { loginMiniApp, loginWidget, mayLogInAutomatically, widgetResult } from "../session";
import { initData, insideTelegram } from "../telegram";
import type { LoginOptions } from "../types";
import { describeError, Loading } from "../ui";

/** Telegram's login page for this bot; it comes back to this very page (the bot's domain must be set with
 * @BotFather's /setdomain). */
function telegramLoginUrl(botId: number): string {
  const here = window.location.origin + window.location.pathname;
  const query = new URLSearchParams({ bot_id: String(botId), origin: window.location.origin, request_access: "write", return_to: here });
  return `https://oauth.telegram.org/auth?${query.toString()}`;
}

function refusal(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403 || error.status === 401) return tx("login.refused", error.code, describeError(error));
    if (error.status === 429) return t("error.rate_limited");
  }
  return describeError(error);
}

export function Login() {
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });
  const [options, setOptions] = useState<LoginOptions | null>(null);

  const attempt = (login: () => Promise<unknown>) => {
    setState({ busy: true, error: null });
    login().catch((error) => setState({ busy: false, error }));
  };

  useEffect(() => {
    const widget = widgetResult();
    if (widget) attempt(() => loginWidget(widget));
    else if (initData() && mayLogInAutomatically()) attempt(loginMiniApp);
    // Without the options the page still says how to get in; only the two links are missing.
    api<LoginOptions>("/auth/options", { auth: false }).then(setOptions, () => undefined);
  }, []);

  return (
    <main class="login" id="main">
      <div class="login-card">
        <h1 class="login-brand">ElCaro</h1>
        <p class="login-tagline">{t("login.tagline")}</p>
        {state.busy ? <Loading label={t("login.signing_in")} /> : null}
        {state.error ? (
          <div class="note note-error" role="alert">
            <p>{refusal(state.error)}</p>
          </div>
        ) : null}
        {!state.busy && insideTelegram ? (
          <button type="button" class="button wide" onClick={() => attempt(loginMiniApp)}>
            {state.error ? t("login.retry") : t("login.log_in")}
          </button>
        ) : null}
        {!state.busy && !insideTelegram ? (
          <div class="login-help">
            {options?.bot_id ? (
              <a class="button wide" href={telegramLoginUrl(options.bot_id)} data-testid="telegram-login">
                {t("login.with_telegram")}
              </a>
            ) : null}
            <p class="muted">{t("login.widget_help")}</p>
            <p>{t("login.open_in_telegram")}</p>
            {options?.bot_username ? (
              <a href={`https://t.me/${options.bot_username}`} data-testid="open-bot">
                {t("login.open_bot", { username: options.bot_username })}
              </a>
            ) : null}
          </div>
        ) : null}
      </div>
    </main>
  );
}
