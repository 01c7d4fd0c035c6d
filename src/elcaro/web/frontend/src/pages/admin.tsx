// Administration: the platform's state and global pause, users and approvals, signals and their fate,
// signal sources.

import { useState } from "preact/hooks";
import { api } from "../api";
import { date, dateTime, formatDecimal, utcDay } from "../format";
import { useResource, useSubmit } from "../hooks";
import { t, tx } from "../i18n";
import type { AdminStatus, AdminUser, Done, Payment, Promo, SignalSummary, Source } from "../types";
import { ActionButton, Badge, Card, describeError, Empty, ErrorNote, Field, Figure, Loading, notify, Page, Tabs } from "../ui";

type Section = "status" | "users" | "payments" | "promos" | "signals" | "sources";

function Status() {
  const status = useResource(() => api<AdminStatus>("/admin/status"));
  if (status.error) return <ErrorNote error={status.error} onRetry={status.reload} />;
  if (!status.data) return <Loading />;
  const found = status.data;
  return (
    <Card title={t("admin.status")}>
      <dl class="figures figures-wide">
        <Figure label={t("admin.entries")}>
          {found.global_paused ? <Badge kind="short">{t("admin.paused")}</Badge> : <Badge kind="ok">{t("admin.allowed")}</Badge>}
        </Figure>
        <Figure label={t("admin.pending_users")}>{found.pending_users}</Figure>
        <Figure label={t("admin.open_positions")}>{found.open_positions}</Figure>
        <Figure label={t("admin.managed_positions")}>{found.managed_positions}</Figure>
        <Figure label={t("admin.last_signal")}>
          {found.last_signal_at ? `${dateTime(found.last_signal_at)} · ${found.last_signal_status ?? ""}` : "—"}
        </Figure>
      </dl>
      {Object.keys(found.exchange_errors).length > 0 ? (
        <p class="muted">
          {t("admin.exchange_errors")} {Object.entries(found.exchange_errors).map(([target, count]) => `${target}: ${count}`).join(", ")}
        </p>
      ) : null}
      {Object.keys(found.open_by_strategy).length > 0 ? (
        <ul class="plain-list">
          {Object.entries(found.open_by_strategy).map(([strategy, count]) => (
            <li key={strategy}>
              <span>
                {strategy}: {t("admin.open_count", { count })}
              </span>
              <ActionButton
                class="button danger secondary small"
                confirm={t("admin.close_strategy_confirm", { strategy, count })}
                onAction={async () => {
                  const done = await api<Done>(`/admin/strategies/${encodeURIComponent(strategy)}/close`, { method: "POST" });
                  notify(t("admin.closing", { count: done.count ?? 0 }), "info");
                  await status.reload();
                }}
              >
                {t("admin.close_strategy")}
              </ActionButton>
            </li>
          ))}
        </ul>
      ) : null}
      <ActionButton
        class={found.global_paused ? "button" : "button danger"}
        confirm={found.global_paused ? undefined : t("admin.pause_confirm")}
        onAction={async () => {
          await api<Done>("/admin/pause", { method: "PUT", body: { paused: !found.global_paused } });
          await status.reload();
        }}
      >
        {found.global_paused ? t("admin.resume_all") : t("admin.pause_all")}
      </ActionButton>
    </Card>
  );
}

function UserRow({ user, onChange }: { user: AdminUser; onChange: (user: AdminUser) => void }) {
  const act = (path: string, body?: unknown) => async () => onChange(await api<AdminUser>(`/admin/users/${user.id}/${path}`, { method: "POST", body }));
  return (
    <li class="user-row">
      <div>
        <strong>{user.display_name}</strong> <span class="muted">#{user.id} · tg {user.telegram_id}</span>{" "}
        <Badge kind={user.approval === "approved" ? "ok" : user.approval === "pending" ? "info" : "short"}>{tx("approval", user.approval)}</Badge>
        {user.role === "admin" ? <Badge kind="info">{tx("role", "admin")}</Badge> : null}
        {user.banned ? <Badge kind="short">{t("admin.banned")}</Badge> : null}
        {user.trading_paused ? <Badge>{t("admin.user_paused")}</Badge> : null}
        <div class="muted small">
          {t("admin.joined", { when: dateTime(user.created_at) })} · {t("admin.seen", { when: dateTime(user.last_seen_at) })}
        </div>
      </div>
      <div class="row-actions">
        {user.approval !== "approved" ? (
          <ActionButton class="button small" onAction={act("approve")}>
            {t("admin.approve")}
          </ActionButton>
        ) : null}
        {user.approval === "pending" ? (
          <ActionButton class="button secondary small" onAction={act("reject")}>
            {t("admin.reject")}
          </ActionButton>
        ) : null}
        {user.banned ? (
          <ActionButton class="button secondary small" onAction={act("unban")}>
            {t("admin.unban")}
          </ActionButton>
        ) : (
          <ActionButton class="button danger secondary small" confirm={t("admin.ban_confirm", { name: user.display_name })} onAction={act("ban", { reason: "" })}>
            {t("admin.ban")}
          </ActionButton>
        )}
        {user.role === "admin" ? (
          <ActionButton class="button secondary small" confirm={t("admin.demote_confirm", { name: user.display_name })} onAction={act("demote")}>
            {t("admin.demote")}
          </ActionButton>
        ) : (
          <ActionButton class="button secondary small" confirm={t("admin.promote_confirm", { name: user.display_name })} onAction={act("promote")}>
            {t("admin.promote")}
          </ActionButton>
        )}
        <ActionButton
          class="button secondary small"
          onAction={async () => {
            await api<Done>(`/admin/users/${user.id}/pause`, { method: "PUT", body: { paused: !user.trading_paused } });
            onChange({ ...user, trading_paused: !user.trading_paused });
          }}
        >
          {user.trading_paused ? t("admin.resume_user") : t("admin.pause_user")}
        </ActionButton>
      </div>
    </li>
  );
}

function Users() {
  const [approval, setApproval] = useState("");
  const [query, setQuery] = useState("");
  const [search, setSearch] = useState("");
  const users = useResource(
    () => (search ? api<AdminUser[]>("/admin/users/search", { query: { q: search } }) : api<AdminUser[]>("/admin/users", { query: { approval, limit: 200 } })),
    [approval, search],
  );
  return (
    <Card title={t("admin.users")}>
      <form
        class="form-grid"
        onSubmit={(event) => {
          event.preventDefault();
          setSearch(query.trim());
        }}
      >
        <Field label={t("admin.search")} hint={t("admin.search_hint")}>
          {({ id, describedBy }) => <input id={id} type="search" value={query} onInput={(event) => setQuery((event.target as HTMLInputElement).value)} aria-describedby={describedBy} />}
        </Field>
        <Field label={t("admin.approval")}>
          {({ id }) => (
            <select id={id} value={approval} onChange={(event) => setApproval((event.target as HTMLSelectElement).value)}>
              <option value="">{t("history.any")}</option>
              {["pending", "approved", "rejected"].map((state) => (
                <option key={state} value={state}>
                  {tx("approval", state)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div class="form-actions">
          <button type="submit" class="button secondary">
            {t("admin.find")}
          </button>
        </div>
      </form>
      {users.error ? <ErrorNote error={users.error} onRetry={users.reload} /> : null}
      {!users.data ? (
        users.error ? null : <Loading />
      ) : users.data.length === 0 ? (
        <Empty>{t("admin.no_users")}</Empty>
      ) : (
        <ul class="plain-list users" data-testid="admin-users">
          {users.data.map((user) => (
            <UserRow key={user.id} user={user} onChange={(next) => users.set(users.data!.map((item) => (item.id === next.id ? next : item)))} />
          ))}
        </ul>
      )}
    </Card>
  );
}

function Signals() {
  const signals = useResource(() => api<SignalSummary[]>("/admin/signals", { query: { limit: 100 } }));
  const [text, setText] = useState("");
  return (
    <>
      <Card title={t("admin.post_signal")}>
        <form class="form-grid" onSubmit={(event) => event.preventDefault()}>
          <Field label={t("admin.signal_text")} hint={t("admin.signal_hint")}>
            {({ id, describedBy }) => (
              <textarea id={id} rows={3} value={text} onInput={(event) => setText((event.target as HTMLTextAreaElement).value)} aria-describedby={describedBy} />
            )}
          </Field>
          <div class="form-actions">
            <ActionButton
              disabled={!text.trim()}
              confirm={t("admin.post_confirm")}
              onAction={async () => {
                const result = await api<{ outcome: string; reason: string | null }>("/admin/signals/post", { body: { text } });
                notify(`${tx("ingest", result.outcome)}${result.reason ? `: ${result.reason}` : ""}`, result.reason ? "warn" : "ok");
                setText("");
                await signals.reload();
              }}
            >
              {t("admin.post")}
            </ActionButton>
          </div>
        </form>
      </Card>
      <Card title={t("admin.signals")}>
        {signals.error ? <ErrorNote error={signals.error} onRetry={signals.reload} /> : null}
        {!signals.data ? (
          signals.error ? null : <Loading />
        ) : signals.data.length === 0 ? (
          <Empty>{t("admin.no_signals")}</Empty>
        ) : (
          <ul class="plain-list signals">
            {signals.data.map((signal) => (
              <li key={signal.id}>
                <div>
                  <strong>
                    #{signal.id} {signal.symbol ?? ""} {signal.side ? tx("side", signal.side) : ""}
                  </strong>{" "}
                  <Badge kind={signal.status === "accepted" ? "ok" : signal.status === "rejected" ? "short" : "info"}>{signal.status}</Badge>
                  <div class="muted small">
                    {dateTime(signal.received_at)} · {signal.source}
                    {signal.strategy ? ` · ${signal.strategy}` : ""}
                    {signal.reason ? ` · ${signal.reason}` : ""}
                  </div>
                  <details>
                    <summary>{t("admin.raw_text")}</summary>
                    <pre class="raw">{signal.raw_text}</pre>
                  </details>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

function Sources() {
  const sources = useResource(() => api<Source[]>("/admin/sources"));
  return (
    <Card title={t("admin.sources")}>
      {sources.error ? <ErrorNote error={sources.error} onRetry={sources.reload} /> : null}
      {!sources.data ? (
        sources.error ? null : <Loading />
      ) : sources.data.length === 0 ? (
        <Empty>{t("admin.no_sources")}</Empty>
      ) : (
        <ul class="plain-list">
          {sources.data.map((source) => (
            <li key={source.id}>
              <span>
                <strong>{source.ref}</strong> <Badge>{source.kind}</Badge> {source.strategy ? `· ${source.strategy}` : ""}
                {source.max_lag_s ? <span class="muted"> · {t("admin.max_lag", { seconds: source.max_lag_s })}</span> : null}
              </span>
              <label class="switch">
                <input
                  type="checkbox"
                  checked={source.enabled}
                  aria-label={t("admin.source_enabled", { name: source.ref })}
                  onChange={async (event) => {
                    const enabled = (event.target as HTMLInputElement).checked;
                    sources.set(sources.data!.map((item) => (item.id === source.id ? { ...item, enabled } : item)));
                    try {
                      await api<Source>(`/admin/sources/${encodeURIComponent(source.kind)}/${encodeURIComponent(source.ref)}`, {
                        method: "PATCH",
                        body: { enabled },
                      });
                    } catch (error) {
                      notify(describeError(error), "error");
                    }
                    await sources.reload();
                  }}
                />
                <span class="switch-track" aria-hidden="true" />
              </label>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function PaymentRow({ payment, onDone }: { payment: Payment; onDone: () => void }) {
  const [reason, setReason] = useState("");
  return (
    <li>
      <div>
        <strong>
          #{payment.id} · {formatDecimal(payment.amount)} {payment.currency}
        </strong>{" "}
        <span class="muted">
          {t("admin.payment_for", { user: payment.user_id, tier: tx("tier", payment.tier), months: payment.months })}
        </span>
        <div class="muted small">
          {dateTime(payment.created_at)} · {payment.reference ?? ""}
        </div>
      </div>
      <div class="row-actions">
        <ActionButton
          class="button small"
          confirm={t("admin.approve_payment_confirm", { id: payment.id })}
          onAction={async () => {
            await api(`/admin/payments/${payment.id}/approve`, { body: {} });
            notify(t("admin.payment_approved"), "ok");
            onDone();
          }}
        >
          {t("admin.approve")}
        </ActionButton>
        <label class="inline-field">
          <span class="visually-hidden">{t("admin.reject_reason", { id: payment.id })}</span>
          <input value={reason} placeholder={t("admin.reason")} onInput={(event) => setReason((event.target as HTMLInputElement).value)} />
        </label>
        <ActionButton
          class="button danger secondary small"
          disabled={!reason.trim()}
          onAction={async () => {
            await api(`/admin/payments/${payment.id}/reject`, { body: { reason: reason.trim() } });
            onDone();
          }}
        >
          {t("admin.reject")}
        </ActionButton>
      </div>
    </li>
  );
}

function Payments() {
  const pending = useResource(() => api<Payment[]>("/admin/payments/pending"));
  const recent = useResource(() => api<Payment[]>("/admin/payments", { query: { limit: 50 } }));
  const reload = () => {
    void pending.reload();
    void recent.reload();
  };
  return (
    <>
      <Card title={t("admin.payments_pending")}>
        {pending.error ? <ErrorNote error={pending.error} onRetry={pending.reload} /> : null}
        {!pending.data ? (
          pending.error ? null : <Loading />
        ) : pending.data.length === 0 ? (
          <Empty>{t("admin.no_pending")}</Empty>
        ) : (
          <ul class="plain-list">
            {pending.data.map((payment) => (
              <PaymentRow key={payment.id} payment={payment} onDone={reload} />
            ))}
          </ul>
        )}
      </Card>
      <Card title={t("admin.payments_recent")}>
        {recent.error ? <ErrorNote error={recent.error} onRetry={recent.reload} /> : null}
        {recent.data && recent.data.length > 0 ? (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">{t("wallet.when")}</th>
                  <th scope="col">{t("subscription.tier")}</th>
                  <th scope="col" class="num">
                    {t("subscription.amount")}
                  </th>
                  <th scope="col">{t("admin.method")}</th>
                  <th scope="col">{t("admin.payment_status")}</th>
                </tr>
              </thead>
              <tbody>
                {recent.data.map((payment) => (
                  <tr key={payment.id}>
                    <th scope="row">{payment.id}</th>
                    <td>{date(payment.created_at)}</td>
                    <td>
                      {tx("tier", payment.tier)} × {payment.months}
                    </td>
                    <td class="num">
                      {formatDecimal(payment.amount)} {payment.currency}
                    </td>
                    <td>{payment.method}</td>
                    <td>{tx("payment", payment.status)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : recent.data ? (
          <Empty>{t("subscription.no_payments")}</Empty>
        ) : recent.error ? null : (
          <Loading />
        )}
      </Card>
    </>
  );
}

function Promos() {
  const promos = useResource(() => api<Promo[]>("/admin/promos"));
  const [form, setForm] = useState({ code: "", tier: "basic", days: "30", max_uses: "100", valid_until: "" });
  const { error, submit, fieldError } = useSubmit();
  const set = (key: keyof typeof form) => (event: Event) => setForm({ ...form, [key]: (event.target as HTMLInputElement).value });
  return (
    <>
      <Card title={t("admin.new_promo")}>
        <form class="form-grid" onSubmit={(event) => event.preventDefault()} noValidate aria-label={t("admin.new_promo")}>
          <Field label={t("subscription.promo_code")} error={fieldError("code")}>
            {({ id, describedBy, invalid }) => <input id={id} value={form.code} onInput={set("code")} autoCapitalize="characters" aria-describedby={describedBy} aria-invalid={invalid} />}
          </Field>
          <Field label={t("subscription.tier")} error={fieldError("tier")}>
            {({ id }) => (
              <select id={id} value={form.tier} onChange={set("tier")}>
                {["trial", "basic", "premium", "enterprise"].map((tier) => (
                  <option key={tier} value={tier}>
                    {tx("tier", tier)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("admin.days")} error={fieldError("days")}>
            {({ id, describedBy, invalid }) => <input id={id} value={form.days} onInput={set("days")} inputMode="numeric" aria-describedby={describedBy} aria-invalid={invalid} />}
          </Field>
          <Field label={t("admin.max_uses")} error={fieldError("max_uses")}>
            {({ id, describedBy, invalid }) => <input id={id} value={form.max_uses} onInput={set("max_uses")} inputMode="numeric" aria-describedby={describedBy} aria-invalid={invalid} />}
          </Field>
          <Field label={t("admin.valid_until")} hint={t("admin.valid_until_hint")} error={fieldError("valid_until")}>
            {({ id, describedBy, invalid }) => <input id={id} type="date" value={form.valid_until} onInput={set("valid_until")} aria-describedby={describedBy} aria-invalid={invalid} />}
          </Field>
          {error && !error.field ? <ErrorNote error={error} /> : null}
          <div class="form-actions">
            <ActionButton
              onAction={() =>
                submit(async () => {
                  const until = utcDay(form.valid_until);
                  await api<Promo>("/admin/promos", {
                    body: {
                      code: form.code.trim(),
                      tier: form.tier,
                      days: Number(form.days),
                      max_uses: Number(form.max_uses),
                      valid_until: until === null ? null : until + 86_400_000 - 1,
                    },
                  });
                  setForm({ ...form, code: "" });
                  await promos.reload();
                })
              }
            >
              {t("admin.create_promo")}
            </ActionButton>
          </div>
        </form>
      </Card>
      <Card title={t("admin.promos")}>
        {promos.error ? <ErrorNote error={promos.error} onRetry={promos.reload} /> : null}
        {!promos.data ? (
          promos.error ? null : <Loading />
        ) : promos.data.length === 0 ? (
          <Empty>{t("admin.no_promos")}</Empty>
        ) : (
          <ul class="plain-list">
            {promos.data.map((promo) => (
              <li key={promo.id}>
                <span>
                  <code class="mono">{promo.code}</code> · {tx("tier", promo.tier)} · {t("admin.promo_days", { days: promo.days })}
                </span>
                <span class="muted">
                  {t("admin.promo_uses", { uses: promo.uses, max: promo.max_uses })}
                  {promo.valid_until ? ` · ${t("admin.promo_until", { when: date(promo.valid_until) })}` : ""}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </>
  );
}

export function Admin() {
  const [section, setSection] = useState<Section>("status");
  return (
    <Page
      title={t("nav.admin")}
      actions={
        <Tabs
          label={t("admin.sections")}
          value={section}
          onChange={setSection}
          options={(["status", "users", "payments", "promos", "signals", "sources"] as Section[]).map((value) => ({ value, label: t(`admin.section_${value}`) }))}
        />
      }
    >
      {section === "status" ? <Status /> : null}
      {section === "users" ? <Users /> : null}
      {section === "payments" ? <Payments /> : null}
      {section === "promos" ? <Promos /> : null}
      {section === "signals" ? <Signals /> : null}
      {section === "sources" ? <Sources /> : null}
    </Page>
  );
}
