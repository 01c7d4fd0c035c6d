// The API's bodies as the dashboard reads them (see src/elcaro/web/schemas/).
// Money, prices and quantities are decimal strings; times are epoch milliseconds (UTC).

export type Dec = string;

export interface LoginOptions {
  bot_id: number | null;
  bot_username: string | null;
}

export interface TokenPair {
  token_type: string;
  access_token: string;
  access_expires_at: number;
  refresh_token: string;
  refresh_expires_at: number;
  session_id: string;
  user_id: number;
  is_admin: boolean;
}

export interface Profile {
  id: number;
  telegram_id: number;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  language: string;
  role: string;
  approval: string;
  terms_accepted: boolean;
  terms_accepted_at: number | null;
  trading_paused: boolean;
  may_trade: boolean;
  referral_code: string;
  created_at: number;
}

export interface SessionOut {
  id: string;
  method: string;
  client: string | null;
  created_at: number;
  refreshed_at: number;
  expires_at: number;
  current: boolean;
}

export interface BalanceOut {
  asset: string;
  wallet: Dec;
  available: Dec;
  unrealized_pnl: Dec;
  equity: Dec;
}

export interface TargetBalance {
  target: string;
  balance: BalanceOut | null;
  error: string | null;
}

export interface Position {
  id: number | null;
  target: string | null;
  symbol: string;
  side: "long" | "short";
  qty: Dec;
  entry_price: Dec;
  leverage: Dec;
  stop_loss: Dec | null;
  take_profit: Dec | null;
  liquidation_price: Dec | null;
  realized_pnl: Dec;
  strategy: string | null;
  signal_id: number | null;
  opened_at: number;
  mark_price: Dec | null;
  unrealized_pnl: Dec | null;
  change_pct: Dec | null;
  /** Every take-profit target of a managed position, nearest first (none for an unmanaged one). */
  targets: ExitTarget[];
}

export interface ExitTarget {
  number: number;
  price: Dec;
  hit: boolean;
}

export interface PositionsPage {
  items: Position[];
  page: number;
  pages: number;
  total: number;
}

export interface Order {
  ref: string;
  target: string;
  managed: boolean;
  client_order_id: string;
  symbol: string;
  side: string;
  type: string;
  qty: Dec;
  price: Dec | null;
  trigger_price: Dec | null;
  reduce_only: boolean;
  stop_loss: Dec | null;
  take_profit: Dec | null;
  status: string;
  filled_qty: Dec;
  avg_fill_price: Dec | null;
  created_at: number;
}

export interface Trade {
  id: number | null;
  target: string;
  symbol: string;
  side: "long" | "short";
  qty: Dec;
  entry_price: Dec;
  exit_price: Dec;
  opened_at: number;
  closed_at: number;
  exit_reason: string;
  strategy: string | null;
  fees: Dec;
  funding: Dec;
  net_pnl: Dec;
  signal_id: number | null;
}

export interface HistoryPage {
  trades: Trade[];
  page: number;
  has_more: boolean;
  /** Pass as `cursor` for the next (older) trades; null: none are left. */
  next_cursor: string | null;
}

/** `GET /trading/history/choices`: the values the caller's trades hold, to offer as filters. */
export interface HistoryChoices {
  symbols: string[];
  strategies: string[];
  targets: string[];
  exit_reasons: string[];
}

/** `GET /statistics/pnl?period=&bucket=day|week|month&strategy=`: net PnL per UTC bucket, oldest first. */
export interface PnlPoint {
  start: number;
  pnl: Dec;
  cumulative: Dec;
  trades: number;
}

export interface PnlHistory {
  period: string;
  bucket: "day" | "week" | "month";
  since: number | null;
  until: number;
  strategy: string | null;
  points: PnlPoint[];
}

export interface SideStats {
  count: number;
  wins: number;
  pnl: Dec;
}

export interface TradeStats {
  count: number;
  wins: number;
  losses: number;
  win_rate: Dec | null;
  total_pnl: Dec;
  avg_pnl: Dec | null;
  gross_profit: Dec;
  gross_loss: Dec;
  profit_factor: Dec | null;
  best: Dec | null;
  worst: Dec | null;
  fees: Dec;
  long: SideStats;
  short: SideStats;
}

export interface Stats {
  period: string;
  since: number | null;
  until: number;
  strategy: string | null;
  overall: TradeStats;
  by_strategy: Record<string, TradeStats>;
  by_target: Record<string, TradeStats>;
}

export interface SettingField {
  name: string;
  kind: "number" | "whole" | "choice" | "bool";
  low: Dec | null;
  high: Dec | null;
  choices: string[];
  nullable: boolean;
}

export interface StoredSettings {
  scope: string;
  exchange: string | null;
  strategy: string | null;
  side: string | null;
  values: Record<string, unknown>;
  updated_at: number;
}

export interface Strategy {
  name: string;
  enabled: boolean;
  direction: "long" | "short" | "both";
}

export interface TargetView {
  target: string;
  enabled: boolean;
  live_opted_in: boolean;
}

// The recorded equity curve (GET /statistics/equity).
export interface EquityPoint {
  at: number;
  equity: Dec;
  wallet: Dec;
  unrealized_pnl: Dec;
  targets: number;
}

export interface EquityCurve {
  period: string;
  target: string | null;
  since: number | null;
  until: number;
  step_ms: number;
  interval_ms: number;
  asset: string | null;
  points: EquityPoint[];
}

export interface Credential {
  id: number;
  target: string;
  label: string;
  key_hint: string | null;
  wallet_address: string | null;
  created_at: number;
  last_verified_at: number | null;
}

export interface CredentialTest {
  credential: Credential;
  balance: BalanceOut;
}

export interface Done {
  ok: boolean;
  count: number | null;
}

export interface BacktestMetrics {
  total_return: number | null;
  win_rate: number | null;
  profit_factor: number | null;
  sharpe: number | null;
  max_drawdown: number | null;
  average_r: number | null;
  exposure: number | null;
  trades: number;
  final_equity: number | null;
}

export interface BacktestRun {
  id: string;
  status: "queued" | "running" | "done" | "failed";
  progress: number;
  done: number;
  total: number;
  strategy: string;
  timeframe: string;
  symbols: string[];
  start: number;
  end: number;
  created_at: number;
  finished_at: number | null;
  error: string | null;
  metrics: BacktestMetrics | null;
  notes: string[];
  skipped_filters: string[];
}

export interface BacktestTrade {
  position: number;
  symbol: string;
  side: string;
  entry_time: number;
  exit_time: number;
  entry_price: number;
  exit_price: number;
  quantity: number;
  fees: number;
  pnl: number;
  r_multiple: number | null;
  exit_reason: string;
}

export interface BacktestChart {
  symbol: string;
  equity_time: number[];
  equity: number[];
  drawdown: number[];
  candle_time: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  trades: BacktestTrade[];
}

export interface Licence {
  id: number;
  tier: string;
  source: string;
  starts_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface LicenceStatus {
  tier: string | null;
  expires_at: number | null;
  active: Licence[];
  trial_available: boolean;
  admin: boolean;
  features: string[];
}

export interface Price {
  tier: string;
  months: number;
  days: number;
  list_elc: Dec;
  discount_pct: Dec;
  amount_elc: Dec;
}

export interface Payment {
  id: number;
  user_id: number;
  method: string;
  status: string;
  amount: Dec;
  currency: string;
  tier: string;
  months: number;
  created_at: number;
  updated_at: number;
  reference: string | null;
  licence_id: number | null;
  reason: string | null;
}

export interface Purchase {
  payment: Payment;
  licence: Licence | null;
  replayed: boolean;
}

export interface Wallet {
  available_elc: Dec;
  locked_elc: Dec;
  total_elc: Dec;
  deposit_address: string;
}

export interface LedgerTx {
  seq: number;
  kind: string;
  created_at: number;
  amount_elc: Dec;
  memo: string | null;
  reference: string | null;
}

export interface Referee {
  user_id: number;
  username: string | null;
  first_name: string | null;
  approval: string;
  joined_at: number;
  earned_elc: Dec;
}

export interface Referrals {
  referral_code: string;
  referees: number;
  earned_elc: Dec;
  signup_rewards: number;
  payment_rewards: number;
  people: Referee[];
}

export interface AdminUser {
  id: number;
  telegram_id: number;
  username: string | null;
  display_name: string;
  language: string;
  role: string;
  approval: string;
  banned: boolean;
  trading_paused: boolean;
  terms_accepted_at: number | null;
  created_at: number;
  last_seen_at: number | null;
}

export interface AdminStatus {
  global_paused: boolean;
  pending_users: number;
  open_positions: number;
  managed_positions: number;
  exchange_errors: Record<string, number>;
  last_signal_at: number | null;
  last_signal_status: string | null;
  open_by_strategy: Record<string, number>;
}

export interface SignalSummary {
  id: number;
  source: string;
  status: string;
  strategy: string | null;
  symbol: string | null;
  side: string | null;
  reason: string | null;
  raw_text: string;
  received_at: number;
}

export interface Source {
  id: number;
  kind: string;
  ref: string;
  strategy: string | null;
  max_lag_s: number | null;
  enabled: boolean;
  has_secret: boolean;
  created_at: number;
}

export interface ExecutionEntry {
  id: number;
  user_id: number;
  target: string;
  status: string;
  reason_code: string | null;
  reason: string | null;
  position_id: number | null;
  created_at: number;
  updated_at: number;
  signal: {
    id: number;
    source_kind: string;
    strategy: string | null;
    symbol: string | null;
    side: string | null;
    status: string;
    received_at: number;
  };
}

export interface Promo {
  id: number;
  code: string;
  tier: string;
  days: number;
  max_uses: number;
  uses: number;
  valid_until: number | null;
  created_at: number;
}

// The engine's status is the service's own JSON (services/engine/status.py): read loosely, shown as given.
export interface EngineTransition {
  at: number;
  source: string;
  target: string;
  cause: string;
}

export interface EngineCommandRecord {
  at: number;
  command: string;
  actor: string;
  accepted: boolean;
  reason?: string | null;
  [key: string]: unknown;
}

export interface EngineStatus {
  state: string;
  since: number;
  preset: string;
  timeframe: string;
  mode: string;
  target: string;
  user_id: number | null;
  ready: boolean;
  killed: Record<string, unknown> | null;
  attempts: number;
  retry_at: number | null;
  cycles: number;
  last_cycle_at: number | null;
  history: EngineTransition[];
  commands: EngineCommandRecord[];
  faults: Record<string, unknown>[];
  breakers: Record<string, unknown>[];
  positions: Record<string, unknown>[];
  decisions: { at: number; stage: string; symbol: string | null; code: string; message: string }[];
  publish_signals: boolean;
}

export interface FilterDecision {
  name: string;
  value: number | null;
  threshold: string;
  passed: boolean | null;
}

export interface ScanReport {
  at: number;
  preset: string;
  timeframe: string;
  candidates: { symbol: string; score: number; components: Record<string, number>; decisions: FilterDecision[] }[];
  decisions: Record<string, FilterDecision[]>;
  skipped: Record<string, string>;
}

// The live chart (routes/market.py).
export interface MarketCandle {
  time: number;
  open: Dec;
  high: Dec;
  low: Dec;
  close: Dec;
  volume: Dec;
}

export interface MarketCandles {
  target: string;
  symbol: string;
  timeframe: string;
  candles: MarketCandle[];
}

export interface ChartMark {
  kind: "entry" | "exit";
  time: number;
  side: "long" | "short";
  price: Dec;
  trade_id: number | null;
  position_id: number | null;
  exit_reason: string | null;
  net_pnl: Dec | null;
}

export interface ChartLevel {
  kind: "entry" | "stop" | "take_profit";
  price: Dec;
  position_id: number;
  index: number | null;
  hit: boolean;
}

export interface ChartMarks {
  target: string;
  symbol: string;
  marks: ChartMark[];
  levels: ChartLevel[];
  position_id: number | null;
}

// The websocket's frames (routes/live.py).
export interface LiveEvent {
  kind: string;
  at: number;
  target?: string | null;
  symbol?: string | null;
  signal_id?: number | null;
  position_id?: number | null;
  code?: string | null;
  data?: Record<string, string>;
  message?: string;
  [key: string]: unknown;
}
