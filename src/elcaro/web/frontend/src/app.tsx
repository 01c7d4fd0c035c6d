// The frame around every page: header with the live feed's state, navigation, the page, notices.

import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { api, currentTokens, onSession } from "./api";
import { logout } from "./session";
import { useLiveEvents, useLiveStatus } from "./hooks";
import { language, onLanguage, pickLanguage, setLanguage, t, tx, type Key } from "./i18n";
import { live } from "./live";
import { money, symbol } from "./format";
import { Link, navigate, usePath } from "./router";
import { insideTelegram, telegramLanguage } from "./telegram";
import type { Profile, TokenPair } from "./types";
import { ConfirmHost, ErrorNote, Loading, notify, ToastHost } from "./ui";
import { Account } from "./pages/account";
import { Admin } from "./pages/admin";
import { Backtests } from "./pages/backtests";
import { Chart } from "./pages/chart";
import { Engine } from "./pages/engine";
import { Exchanges } from "./pages/exchanges";
import { History } from "./pages/history";
import { Login } from "./pages/login";
import { Portfolio } from "./pages/portfolio";
import { Positions } from "./pages/positions";
import { Strategies } from "./pages/strategies";
import { Subscription } from "./pages/subscription";
import { Terms } from "./pages/terms";
import { Wallet } from "./pages/wallet";

interface Me {
  profile: Profile;
  isAdmin: boolean;
  update: (profile: Profile) => void;
}

const MeContext = createContext<Me | null>(null);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe outside the logged-in app");
  return me;
}

interface Route {
  path: string;
  label: Key;
  icon: string;
  admin?: boolean;
  render: () => preact.JSX.Element;
}

const ROUTES: Route[] = [
  { path: "/portfolio", label: "nav.portfolio", icon: "◔", render: () => <Portfolio /> },
  { path: "/positions", label: "nav.positions", icon: "⇅", render: () => <Positions /> },
  { path: "/history", label: "nav.history", icon: "☰", render: () => <History /> },
  { path: "/chart", label: "nav.chart", icon: "▥", render: () => <Chart /> },
  { path: "/strategies", label: "nav.strategies", icon: "⚙", render: () => <Strategies /> },
  { path: "/exchanges", label: "nav.exchanges", icon: "⇄", render: () => <Exchanges /> },
  { path: "/backtests", label: "nav.backtests", icon: "↻", render: () => <Backtests /> },
  { path: "/wallet", label: "nav.wallet", icon: "◈", render: () => <Wallet /> },
  { path: "/subscription", label: "nav.subscription", icon: "★", render: () => <Subscription /> },
  { path: "/account", label: "nav.account", icon: "☺", render: () => <Account /> },
  { path: "/engine", label: "nav.engine", icon: "⚡", admin: true, render: () => <Engine /> },
  { path: "/admin", label: "nav.admin", icon: "⚑", admin: true, render: () => <Admin /> },
];

// A full take-profit is followed by position_closed, which says it with the final figures: one notice.
const NOTICED_EVENTS = new Set(["entry_filled", "partial_take_profit", "position_closed", "dca_filled"]);

function LiveIndicator() {
  const status = useLiveStatus();
  return (
    <span class={`live live-${status}`} role="status" data-testid="live-status" data-status={status}>
      <span class="live-dot" aria-hidden="true" />
      {t(`live.${status}` as Key)}
    </span>
  );
}

/** A short notice for the trading events a trader wants to know about at once, on any page. */
function EventNotices() {
  useLiveEvents((event, channel) => {
    if (channel !== "user" || !NOTICED_EVENTS.has(event.kind)) return;
    const data = event.data ?? {};
    const pnl = data.pnl ?? data.realized_pnl;
    notify(
      tx("event", event.kind, event.message ?? event.kind, {
        symbol: event.symbol ? symbol(event.symbol) : "",
        pnl: pnl ? money(pnl, true) : "",
      }),
      event.kind === "position_closed" ? "ok" : "info",
    );
  });
  return null;
}

function Shell({ profile, onProfile }: { profile: Profile; onProfile: (profile: Profile) => void }) {
  const path = usePath();
  const tokens = currentTokens();
  const isAdmin = Boolean(tokens?.is_admin);
  const [menuOpen, setMenuOpen] = useState(false);
  const routes = ROUTES.filter((route) => !route.admin || isAdmin);
  const found = routes.find((route) => route.path === path);

  useEffect(() => {
    if (!found) navigate("/portfolio", { replace: true });
  }, [found]);
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, []);

  return (
    <MeContext.Provider value={{ profile, isAdmin, update: onProfile }}>
      <a class="skip" href="#main">
        {t("nav.skip")}
      </a>
      <div class="layout">
        <header class="topbar">
          <button
            type="button"
            class="menu-button"
            aria-expanded={menuOpen}
            aria-controls="site-nav"
            onClick={() => setMenuOpen(!menuOpen)}
          >
            <span aria-hidden="true">☰</span>
            <span class="visually-hidden">{t("nav.menu")}</span>
          </button>
          <Link to="/portfolio" class="brand">
            ElCaro
          </Link>
          <LiveIndicator />
          <span class="who" title={profile.username ? `@${profile.username}` : undefined}>
            {profile.first_name ?? profile.username ?? `#${profile.id}`}
          </span>
        </header>
        <nav id="site-nav" class={`sidenav ${menuOpen ? "open" : ""}`} aria-label={t("nav.label")}>
          <ul>
            {routes.map((route) => (
              <li key={route.path}>
                <Link to={route.path}>
                  <span class="nav-icon" aria-hidden="true">
                    {route.icon}
                  </span>
                  {t(route.label)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" class="content">
          {!profile.terms_accepted ? <Terms onAccepted={onProfile} /> : found ? found.render() : null}
        </main>
      </div>
      <EventNotices />
    </MeContext.Provider>
  );
}

function LoggedIn() {
  const [profile, setProfile] = useState<Profile | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => {
    setError(null);
    api<Profile>("/me")
      .then((found) => {
        setLanguage(pickLanguage(found.language));
        setProfile(found);
      })
      .catch(setError);
  };
  useEffect(load, []);
  if (error) {
    return (
      <main class="content narrow">
        <ErrorNote error={error} onRetry={load} />
        <button type="button" class="button secondary" onClick={() => void logout()}>
          {t("account.logout")}
        </button>
      </main>
    );
  }
  if (!profile) return <Loading />;
  return <Shell profile={profile} onProfile={setProfile} />;
}

export function App() {
  const [tokens, setTokens] = useState<TokenPair | null>(currentTokens());
  const [lang, setLang] = useState(language());
  useEffect(() => onSession(setTokens), []);
  useEffect(() => onLanguage(setLang), []);
  useEffect(() => {
    if (!tokens) setLanguage(pickLanguage(telegramLanguage(), navigator.language));
  }, [tokens]);
  return (
    <div class={insideTelegram ? "in-telegram" : ""} key={lang}>
      {tokens ? <LoggedIn /> : <Login />}
      <ConfirmHost />
      <ToastHost />
    </div>
  );
}
