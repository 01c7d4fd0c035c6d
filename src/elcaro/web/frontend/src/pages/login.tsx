// Logging in. Inside Telegram it happens at once with the Mini App's signed data; in a browser with the
// fields the Telegram Login Widget hands back. There is no way in without Telegram's signature.

import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api";
import { t, tx } from "../i18n";
import { loginMiniApp, loginWidget, mayLogInAutomatically, widgetResult } from "../session";
import { initData, insideTelegram } from "../telegram";
import { describeError, Loading } from "../ui";

function refusal(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403 || error.status === 401) return tx("login.refused", error.code, describeError(error));
    if (error.status === 429) return t("error.rate_limited");
  }
  return describeError(error);
}

export function Login() {
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: null });

  const attempt = (login: () => Promise<unknown>) => {
    setState({ busy: true, error: null });
    login().catch((error) => setState({ busy: false, error }));
  };

  useEffect(() => {
    const widget = widgetResult();
    if (widget) attempt(() => loginWidget(widget));
    else if (initData() && mayLogInAutomatically()) attempt(loginMiniApp);
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
            <p>{t("login.open_in_telegram")}</p>
            <p class="muted">{t("login.widget_help")}</p>
          </div>
        ) : null}
      </div>
    </main>
  );
}
