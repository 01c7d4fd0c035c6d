// The live feed (``/api/v1/ws``): events as they happen, resumed after a drop without losing any.
//
// The access token goes in the first frame (not the URL, which proxies log). After a drop the client
// reconnects with the stream id and the last sequence number it saw; the server replays what was missed,
// or says ``resync`` when it no longer can — then every page refetches what it shows.
//
// It also asks for ``marks``: the mark price and unrealised PnL of the user's open positions as the server
// prices them. Those are not numbered and not replayed — each one replaces the one before, and every
// (re)connection starts with the current ones — so a page applies them as they come.

import { accessToken, API, currentTokens, refreshTokens } from "./api";
import type { LiveEvent } from "./types";

export type LiveStatus = "connecting" | "live" | "offline";
export type Channel = "user" | "admin";
type EventListener = (event: LiveEvent, channel: Channel) => void;

/** One open position at the price just read (decimals as exact strings), as ``/trading/positions`` would show it. */
export interface LiveMark {
  position_id: number;
  target: string;
  symbol: string;
  mark_price: string;
  unrealized_pnl: string;
  change_pct: string;
  at: number;
}
type MarksListener = (marks: LiveMark[]) => void;

const PING_EVERY_MS = 25_000;
const MAX_BACKOFF_MS = 30_000;

class LiveFeed {
  status: LiveStatus = "offline";
  private socket: WebSocket | null = null;
  private stream: string | null = null;
  private seq: Record<Channel, number> = { user: 0, admin: 0 };
  private running = false;
  private attempts = 0;
  private retryTimer: number | undefined;
  private pingTimer: number | undefined;
  private readonly events = new Set<EventListener>();
  private readonly resyncs = new Set<() => void>();
  private readonly marks = new Set<MarksListener>();
  private readonly statuses = new Set<(status: LiveStatus) => void>();

  start(): void {
    if (this.running) return;
    this.running = true;
    window.addEventListener("online", this.wake);
    document.addEventListener("visibilitychange", this.wake);
    void this.connect();
  }

  stop(): void {
    this.running = false;
    window.removeEventListener("online", this.wake);
    document.removeEventListener("visibilitychange", this.wake);
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    this.socket?.close(1000, "logged out");
    this.socket = null;
    this.stream = null;
    this.seq = { user: 0, admin: 0 };
    this.setStatus("offline");
  }

  onEvent(listener: EventListener): () => void {
    this.events.add(listener);
    return () => void this.events.delete(listener);
  }

  onMarks(listener: MarksListener): () => void {
    this.marks.add(listener);
    return () => void this.marks.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncs.add(listener);
    return () => void this.resyncs.delete(listener);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statuses.add(listener);
    return () => void this.statuses.delete(listener);
  }

  private readonly wake = (): void => {
    if (!this.running || document.visibilityState === "hidden") return;
    if (this.status === "offline" && !this.socket) {
      window.clearTimeout(this.retryTimer);
      this.attempts = 0;
      void this.connect();
    }
  };

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.statuses.forEach((listener) => listener(status));
  }

  private url(): string {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ marks: "1" });
    if (this.stream) {
      query.set("stream", this.stream);
      query.set("after", String(this.seq.user));
      if (currentTokens()?.is_admin) query.set("admin_after", String(this.seq.admin));
    }
    return `${scheme}://${window.location.host}${API}/ws?${query.toString()}`;
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const token = await accessToken();
    if (!token || !this.running) {
      this.setStatus("offline");
      return;
    }
    this.setStatus("connecting");
    let hello: { user: number; admin: number } | null = null;
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
    socket.onmessage = (message) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(message.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (frame.type === "hello") {
        const resumed = this.stream === frame.stream;
        this.stream = String(frame.stream);
        hello = { user: Number(frame.user_seq) || 0, admin: Number(frame.admin_seq) || 0 };
        // Another stream (the server restarted): its numbers start over. The server says ``resync`` next.
        if (!resumed) this.seq = { ...hello };
        this.attempts = 0;
        this.setStatus("live");
        window.clearInterval(this.pingTimer);
        this.pingTimer = window.setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_EVERY_MS);
      } else if (frame.type === "event") {
        const channel = frame.channel === "admin" ? "admin" : "user";
        this.seq[channel] = Number(frame.seq) || this.seq[channel];
        const event = frame.event as LiveEvent;
        this.events.forEach((listener) => listener(event, channel));
      } else if (frame.type === "marks") {
        const marks = Array.isArray(frame.marks) ? (frame.marks as LiveMark[]) : [];
        if (marks.length > 0) this.marks.forEach((listener) => listener(marks));
      } else if (frame.type === "resync") {
        if (hello) this.seq = { ...hello };
        this.resyncs.forEach((listener) => listener());
      }
    };
    socket.onclose = (closed) => {
      window.clearInterval(this.pingTimer);
      if (this.socket === socket) this.socket = null;
      if (!this.running) return;
      this.setStatus("offline");
      if (closed.code === 4401) {
        // The access token expired (or the session ended): a refresh tells which.
        void refreshTokens().then((next) => (next ? this.schedule(0) : this.stop()));
        return;
      }
      if (closed.code === 4409) this.resyncs.forEach((listener) => listener());
      this.schedule();
    };
  }

  private schedule(delay?: number): void {
    window.clearTimeout(this.retryTimer);
    const wait = delay ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
    this.attempts += 1;
    this.retryTimer = window.setTimeout(() => void this.connect(), wait);
  }
}

export const live = new LiveFeed();
