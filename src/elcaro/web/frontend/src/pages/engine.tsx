// The strategy engine (admins): its state machine, commands, the last scanner pass and diagnostics.
// State changes arrive on the websocket's admin channel (``engine_state``) and refetch the status.

import { useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { dateTime, float, symbol } from "../format";
import { useLiveEvents, useResource, useVisibleInterval } from "../hooks";
import { t, tx } from "../i18n";
import type { EngineStatus, FilterDecision, ScanReport } from "../types";
import { ActionButton, Badge, Card, describeError, Empty, ErrorNote, Field, Figure, Loading, Note, notify, Page } from "../ui";

const STATES = ["idle", "initializing", "scanning", "level_building", "signal_wait", "sizing", "execution", "managing", "paused", "error", "emergency", "stopped"];
const CYCLE = new Set(["scanning", "level_building", "signal_wait", "sizing", "execution", "managing"]);
const COMMANDS: { name: string; danger?: boolean }[] = [
  { name: "start" },
  { name: "pause" },
  { name: "resume" },
  { name: "retry" },
  { name: "stop", danger: true },
  { name: "reset" },
  { name: "time_stop", danger: true },
  { name: "panic_exit", danger: true },
  { name: "kill_switch", danger: true },
];

function StateMachine({ status }: { status: EngineStatus }) {
  return (
    <ol class="states" aria-label={t("engine.states")}>
      {STATES.map((state) => (
        <li
          key={state}
          class={`state ${state === status.state ? "current" : ""} ${CYCLE.has(state) ? "in-cycle" : ""}`}
          aria-current={state === status.state ? "step" : undefined}
        >
          {tx("engine_state", state)}
        </li>
      ))}
    </ol>
  );
}

function Commands({ presets, onDone }: { presets: string[]; onDone: () => void }) {
  const [picked, setPicked] = useState("");
  const preset = picked || presets[0] || ""; // the list arrives after the first render
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | null>(null);
  const send = async (command: string, extra: Record<string, unknown> = {}) => {
    try {
      const record = await api<{ accepted?: boolean; reason?: string | null; state_now: string }>("/engine/commands", {
        body: { command, ...extra },
      });
      const accepted = record.accepted !== false;
      setAnswer({
        ok: accepted,
        text: accepted
          ? t("engine.command_done", { command: tx("engine_command", command), state: tx("engine_state", record.state_now) })
          : t("engine.command_refused", { command: tx("engine_command", command), reason: record.reason ?? "" }),
      });
    } catch (error) {
      setAnswer({ ok: false, text: error instanceof ApiError ? describeError(error) : String(error) });
    }
    onDone();
  };
  return (
    <Card title={t("engine.commands")}>
      <div class="button-row">
        {COMMANDS.map((command) => (
          <ActionButton
            key={command.name}
            class={`button small ${command.danger ? "danger" : "secondary"}`}
            confirm={command.danger ? t("engine.confirm", { command: tx("engine_command", command.name) }) : undefined}
            onAction={() => send(command.name)}
          >
            {tx("engine_command", command.name)}
          </ActionButton>
        ))}
      </div>
      <div class="form-grid">
        <Field label={t("engine.preset")}>
          {({ id }) => (
            <select id={id} value={preset} onChange={(event) => setPicked((event.target as HTMLSelectElement).value)}>
              {presets.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="form-actions">
          <ActionButton class="button secondary" onAction={() => send("reload_preset", { preset })}>
            {tx("engine_command", "reload_preset")}
          </ActionButton>
        </div>
      </div>
      {answer ? <Note kind={answer.ok ? "ok" : "error"}>{answer.text}</Note> : null}
    </Card>
  );
}

function decisionCell(decision: FilterDecision | undefined) {
  if (!decision) return <td>—</td>;
  const mark = decision.passed === null ? "○" : decision.passed ? "✓" : "✗";
  const label = decision.passed === null ? t("engine.skipped") : decision.passed ? t("engine.passed") : t("engine.failed");
  return (
    <td class={`decision ${decision.passed === null ? "" : decision.passed ? "up" : "down"}`} title={`${decision.threshold}`}>
      <span aria-hidden="true">{mark}</span> <span class="visually-hidden">{label}</span>
      {decision.value === null ? "" : ` ${float(decision.value, 2)}`}
    </td>
  );
}

function Scanner() {
  const scan = useResource(() => api<ScanReport | null>("/engine/scan"));
  useLiveEvents(() => void scan.reload(), { kinds: ["engine_state"] });
  if (scan.error) return <ErrorNote error={scan.error} onRetry={scan.reload} />;
  if (scan.data === undefined) return <Loading />;
  const report = scan.data;
  const filters = report ? [...new Set(Object.values(report.decisions).flatMap((list) => list.map((decision) => decision.name)))] : [];
  const candidates = new Map(report?.candidates.map((candidate) => [candidate.symbol, candidate]) ?? []);
  return (
    <Card title={t("engine.scanner")}>
      {!report ? (
        <Empty>{t("engine.no_scan")}</Empty>
      ) : (
        <>
          <p class="muted">{t("engine.scan_at", { when: dateTime(report.at), preset: report.preset, timeframe: report.timeframe })}</p>
          <div class="table-wrap">
            <table class="scanner" data-testid="scanner">
              <thead>
                <tr>
                  <th scope="col">{t("history.symbol")}</th>
                  <th scope="col" class="num">
                    {t("engine.score")}
                  </th>
                  {filters.map((name) => (
                    <th scope="col" key={name}>
                      {name.replace(/^scanner\./, "")}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {Object.entries(report.decisions).map(([name, decisions]) => (
                  <tr key={name} class={candidates.has(name) ? "candidate" : ""}>
                    <th scope="row">
                      {symbol(name)} {candidates.has(name) ? <Badge kind="ok">{t("engine.candidate")}</Badge> : null}
                    </th>
                    <td class="num">{candidates.has(name) ? float(candidates.get(name)!.score, 2) : "—"}</td>
                    {filters.map((filter) => decisionCell(decisions.find((decision) => decision.name === filter)))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {Object.keys(report.skipped).length > 0 ? (
            <p class="muted small">
              {t("engine.unread")} {Object.entries(report.skipped).map(([name, reason]) => `${symbol(name)}: ${reason}`).join("; ")}
            </p>
          ) : null}
        </>
      )}
    </Card>
  );
}

function Diagnostics({ status }: { status: EngineStatus }) {
  return (
    <Card title={t("engine.diagnostics")}>
      <h3>{t("engine.faults")}</h3>
      {status.faults.length === 0 ? (
        <Empty>{t("engine.no_faults")}</Empty>
      ) : (
        <ul class="log">
          {status.faults.slice(-20).reverse().map((fault, index) => (
            <li key={index}>
              {dateTime(fault.at as number)} · {String(fault.operation)}: {String(fault.message)} <Badge>{String(fault.disposition)}</Badge>
            </li>
          ))}
        </ul>
      )}
      {status.breakers.length > 0 ? (
        <>
          <h3>{t("engine.breakers")}</h3>
          <ul class="log">
            {status.breakers.map((breaker) => (
              <li key={String(breaker.operation)}>
                {String(breaker.operation)}: <Badge kind={breaker.state === "closed" ? "ok" : "short"}>{String(breaker.state)}</Badge>{" "}
                {t("engine.recent_failures", { count: Number(breaker.recent_failures) })}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>{t("engine.decisions")}</h3>
      {status.decisions.length === 0 ? (
        <Empty>{t("engine.no_decisions")}</Empty>
      ) : (
        <ul class="log">
          {status.decisions.slice(-20).reverse().map((decision, index) => (
            <li key={index}>
              {dateTime(decision.at)} · {decision.stage} · {decision.symbol ? symbol(decision.symbol) : ""} {decision.code}: {decision.message}
            </li>
          ))}
        </ul>
      )}
      <h3>{t("engine.history")}</h3>
      {status.history.length === 0 ? (
        <Empty>{t("engine.no_history")}</Empty>
      ) : (
        <ul class="log">
          {status.history.slice(-20).reverse().map((transition, index) => (
            <li key={index}>
              {dateTime(transition.at)} · {tx("engine_state", transition.source)} → {tx("engine_state", transition.target)} ({transition.cause})
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export function Engine() {
  const status = useResource(() => api<EngineStatus>("/engine/status"));
  const presets = useResource(() => api<string[]>("/engine/presets"));
  useLiveEvents(
    (event) => {
      notify(t("engine.moved", { from: tx("engine_state", String(event.from)), to: tx("engine_state", String(event.to)) }), "info");
      void status.reload();
    },
    { kinds: ["engine_state"], onResync: status.reload },
  );
  useVisibleInterval(() => void status.reload(), 10_000);

  if (status.error instanceof ApiError && status.error.code === "not_configured") {
    return (
      <Page title={t("nav.engine")}>
        <Note kind="info">{t("engine.not_running")}</Note>
      </Page>
    );
  }
  const current = status.data;
  return (
    <Page title={t("nav.engine")}>
      {status.error ? <ErrorNote error={status.error} onRetry={status.reload} /> : null}
      {!current ? (
        status.error ? null : <Loading />
      ) : (
        <>
          <Card title={t("engine.state")} data-testid="engine-status">
            <StateMachine status={current} />
            <dl class="figures figures-wide">
              <Figure label={t("engine.state")}>
                <strong data-testid="engine-state">{tx("engine_state", current.state)}</strong>
              </Figure>
              <Figure label={t("engine.since")}>{dateTime(current.since)}</Figure>
              <Figure label={t("engine.preset")}>
                {current.preset} · {current.timeframe}
              </Figure>
              <Figure label={t("engine.where")}>
                {tx("target", current.target, current.target)}
              </Figure>
              <Figure label={t("engine.cycles")}>{current.cycles}</Figure>
              <Figure label={t("engine.last_cycle")}>{dateTime(current.last_cycle_at)}</Figure>
              <Figure label={t("engine.positions")}>{current.positions.length}</Figure>
              {current.retry_at ? <Figure label={t("engine.retry_at")}>{dateTime(current.retry_at)}</Figure> : null}
            </dl>
            {current.killed ? <Note kind="error">{t("engine.killed", { cause: String(current.killed.cause ?? "") })}</Note> : null}
          </Card>
          <Commands presets={presets.data ?? []} onDone={() => void status.reload()} />
          <Scanner />
          <Diagnostics status={current} />
        </>
      )}
    </Page>
  );
}
