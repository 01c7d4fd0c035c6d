// The trader's account: who they are, language, pausing new entries, logged-in devices, logging out.

import { api } from "../api";
import { logout } from "../session";
import { useMe } from "../app";
import { dateTime } from "../format";
import { useResource } from "../hooks";
import { LANGUAGES, setLanguage, t, tx, type Language } from "../i18n";
import type { Done, Profile, SessionOut } from "../types";
import { ActionButton, Badge, Card, ErrorNote, Field, Figure, Loading, Page } from "../ui";

const LANGUAGE_NAMES: Record<Language, string> = { en: "English", ru: "Русский" };

function Sessions() {
  const sessions = useResource(() => api<SessionOut[]>("/auth/sessions"));
  return (
    <Card title={t("account.sessions")}>
      {sessions.error ? <ErrorNote error={sessions.error} onRetry={sessions.reload} /> : null}
      {!sessions.data ? (
        sessions.error ? null : <Loading />
      ) : (
        <ul class="plain-list">
          {sessions.data.map((session) => (
            <li key={session.id}>
              <span>
                {tx("login_method", session.method)} · {session.client ? <span class="muted">{session.client.slice(0, 80)}</span> : null}
                <div class="muted small">
                  {t("account.session_since", { created: dateTime(session.created_at), refreshed: dateTime(session.refreshed_at) })}
                </div>
              </span>
              {session.current ? (
                <Badge kind="ok">{t("account.this_device")}</Badge>
              ) : (
                <ActionButton
                  class="button secondary small"
                  confirm={t("account.end_session_confirm")}
                  onAction={async () => {
                    await api<Done>(`/auth/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE" });
                    await sessions.reload();
                  }}
                >
                  {t("account.end_session")}
                </ActionButton>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function Account() {
  const { profile, update } = useMe();
  const name = [profile.first_name, profile.last_name].filter(Boolean).join(" ") || profile.username || `#${profile.id}`;
  return (
    <Page title={t("nav.account")}>
      <Card title={name}>
        <dl class="figures">
          <Figure label={t("account.user_id")}>#{profile.id}</Figure>
          <Figure label={t("account.telegram")}>{profile.username ? `@${profile.username}` : profile.telegram_id}</Figure>
          <Figure label={t("account.role")}>{tx("role", profile.role)}</Figure>
          <Figure label={t("account.member_since")}>{dateTime(profile.created_at)}</Figure>
          <Figure label={t("account.referral_code")}>
            <code class="mono">{profile.referral_code}</code>
          </Figure>
        </dl>
      </Card>
      <Card title={t("account.preferences")}>
        <div class="form-grid">
          <Field label={t("account.language")}>
            {({ id }) => (
              <select
                id={id}
                value={profile.language}
                onChange={async (event) => {
                  const next = (event.target as HTMLSelectElement).value as Language;
                  const saved = await api<Profile>("/me/language", { method: "PUT", body: { language: next } });
                  update(saved);
                  setLanguage(next);
                }}
              >
                {LANGUAGES.map((code) => (
                  <option key={code} value={code} lang={code}>
                    {LANGUAGE_NAMES[code]}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <p>{profile.trading_paused ? t("account.paused") : t("account.trading")}</p>
        <ActionButton
          class={profile.trading_paused ? "button" : "button secondary"}
          onAction={async () => update(await api<Profile>("/me/pause", { method: "PUT", body: { paused: !profile.trading_paused } }))}
        >
          {profile.trading_paused ? t("account.resume") : t("account.pause")}
        </ActionButton>
      </Card>
      <Sessions />
      <Card>
        <button type="button" class="button danger secondary" onClick={() => void logout()}>
          {t("account.logout")}
        </button>
      </Card>
    </Page>
  );
}
