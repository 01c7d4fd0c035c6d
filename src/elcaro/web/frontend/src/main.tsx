import { render } from "preact";
import { App } from "./app";
import { BASE } from "./router";
import { startTelegram } from "./telegram";
import "./styles.css";

startTelegram();
if (!window.location.pathname.startsWith(BASE)) {
  // ``/`` (and a bare Mini App URL) opens the portfolio; a Login Widget answer in the query stays.
  history.replaceState(null, "", `${BASE}/portfolio${window.location.search}${window.location.hash}`);
}
const root = document.getElementById("app");
if (root) render(<App />, root);
