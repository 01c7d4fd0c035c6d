"""``elcaro``: run the platform and administer it from a shell.

Imports of the platform happen inside each command, so ``elcaro --help`` answers at once.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import asyncio

    from elcaro.core.config import Settings
    from elcaro.models import User
    from elcaro.services.platform import Platform

from elcaro.cli import backtest as backtest_cli
from elcaro.cli import engine as engine_cli
from elcaro.cli import ledger as ledger_cli
from elcaro.cli import licence as licence_cli
from elcaro.cli.common import fail, load_cli_settings, resolve_user, run_async, serve_until_stopped, with_platform

app = typer.Typer(name="elcaro", help="ElCaro: self-hosted crypto trading platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema, backup and restore.", no_args_is_help=True)
user_app = typer.Typer(help="Users: add, list, approve, ban, promote.", no_args_is_help=True)
data_app = typer.Typer(help="Recorded market data: import candles, check their health.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(data_app, name="data")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(licence_cli.app, name="licence")
app.command("backtest")(backtest_cli.backtest)
app.add_typer(engine_cli.app, name="engine")
app.command("scan")(engine_cli.scan)

UserArg = Annotated[str, typer.Argument(help="Platform user id, or tg:<Telegram id>.")]


def main() -> None:
    app()


def _print_users(users: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from elcaro.core.clock import to_datetime

    table = Table("id", "telegram", "name", "role", "approval", "banned", "terms", "language", "created (UTC)")
    for u in users:
        table.add_row(
            str(u.id),
            str(u.telegram_id),
            u.display_name,
            u.role.value,
            u.approval.value,
            "yes" if u.banned else "",
            "yes" if u.terms_accepted_at else "",
            u.language,
            to_datetime(u.created_at).strftime("%Y-%m-%d %H:%M"),
        )
    # Piped output (a script, a test) gets full width rather than rich's 80-column default.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command()
def version() -> None:
    """Print the version."""
    from elcaro import __version__

    typer.echo(__version__)


@app.command()
def run() -> None:
    """Run the platform until Ctrl+C (migrates the database first)."""
    from elcaro.cli.interfaces import configured_interfaces
    from elcaro.services.runner import run_platform

    def main_job(settings: Settings, stop: asyncio.Event) -> Awaitable[None]:
        return run_platform(settings, stop, configured_interfaces(settings))

    serve_until_stopped(main_job)


@app.command()
def simulator() -> None:
    """Run only the local Bybit-compatible exchange simulator (accounts and faults from its config file)."""
    from elcaro.services.runner import run_simulator

    serve_until_stopped(run_simulator)


@app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret under a new master key (stop the platform first)."""
    from elcaro.services.secrets import rotate_master_key

    result = run_async(rotate_master_key(load_cli_settings()))
    where = "key file updated" if result.key_file_updated else "you may now remove the old key from ELCARO_MASTER_KEY"
    typer.echo(f"{result.reencrypted} secrets re-encrypted under key {result.primary_key_id}; {where}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Migrate the database schema (creates the SQLite file on first use)."""
    from elcaro.services.maintenance import upgrade_database

    current = run_async(upgrade_database(load_cli_settings(), revision))
    typer.echo(f"database at revision {current}")


@db_app.command("backup")
def db_backup(
    destination: Annotated[Path | None, typer.Argument(help="Backup file (default: data/backups/…).")] = None,
) -> None:
    """Consistent backup of the live database (SQLite online backup, or pg_dump)."""
    from elcaro.services.maintenance import backup_database

    path = run_async(backup_database(load_cli_settings(), destination))
    typer.echo(f"backup written to {path}")


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A file made by `elcaro db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm replacing the current database.")] = False,
) -> None:
    """Replace the database with a backup. Stop the platform first."""
    from elcaro.services.maintenance import restore_database

    if not yes:
        raise fail("restore replaces every record in the database; run again with --yes to confirm")
    run_async(restore_database(load_cli_settings(), source))
    typer.echo(f"database restored from {source}")


@user_app.command("add")
def user_add(
    telegram_id: Annotated[int, typer.Argument(help="The person's Telegram user id.")],
    username: Annotated[str | None, typer.Option(help="Telegram username, without @.")] = None,
    first_name: Annotated[str | None, typer.Option(help="First name.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code (en, ru).")] = None,
    approve: Annotated[bool, typer.Option("--approve", help="Approve at once.")] = False,
    admin: Annotated[bool, typer.Option("--admin", help="Make an admin (implies approved).")] = False,
) -> None:
    """Register a user by Telegram id."""
    from elcaro.models import TelegramProfile

    async def go(platform: Platform) -> User:
        user = await platform.users.register(
            TelegramProfile(telegram_id, username=username, first_name=first_name, language_code=language)
        )
        if admin:
            user = await platform.users.promote(user.id)
        elif approve:
            user = await platform.users.approve(user.id)
        return user

    _print_users([with_platform(go)])


@user_app.command("list")
def user_list(
    pending: Annotated[bool, typer.Option("--pending", help="Only users waiting for approval.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """List users, newest first."""
    from elcaro.models import ApprovalState

    approval = ApprovalState.PENDING if pending else None
    _print_users(with_platform(lambda p: p.users.list_users(approval=approval, limit=limit)))


def _user_action(name: str, **kwargs: Any) -> Callable[[str], None]:
    def command(user: UserArg) -> None:
        async def go(platform: Platform) -> User:
            found = await resolve_user(platform, user)
            result: User = await getattr(platform.users, name)(found.id, **kwargs)
            return result

        _print_users([with_platform(go)])

    return command


user_app.command("approve", help="Approve a pending user.")(_user_action("approve"))
user_app.command("reject", help="Reject a pending user.")(_user_action("reject"))
user_app.command("unban", help="Lift a ban.")(_user_action("unban"))
user_app.command("promote", help="Make a user an admin.")(_user_action("promote"))
user_app.command("demote", help="Make an admin a plain user.")(_user_action("demote"))


@user_app.command("accept-terms")
def user_accept_terms(user: UserArg) -> None:
    """Record the terms as accepted (for local paper demos; traders accept them in the bot)."""

    async def go(platform: Platform) -> User:
        found = await resolve_user(platform, user)
        return await platform.users.accept_terms(found.id)

    _print_users([with_platform(go)])


@user_app.command("target")
def user_target(
    user: UserArg,
    target: Annotated[str, typer.Argument(help="exchange:environment, e.g. bybit:paper or bybit:demo.")],
    disable: Annotated[bool, typer.Option("--disable", help="Stop trading there.")] = False,
    live_opt_in: Annotated[bool, typer.Option("--live-opt-in", help="Allow real money on a live target.")] = False,
) -> None:
    """Trade on a target (copy-trading fans signals out to every enabled target of a user)."""
    from elcaro.models import Target

    async def go(platform: Platform) -> list[Any]:
        found = await resolve_user(platform, user)
        await platform.preferences.set_target(
            found.id, Target.parse(target), enabled=not disable, live_opt_in=live_opt_in
        )
        return await platform.preferences.targets(found.id)

    for item in with_platform(go):
        live = " (live opt-in)" if item.live_opt_in_at else ""
        typer.echo(f"{item.target} {'enabled' if item.enabled else 'disabled'}{live}")


@user_app.command("set")
def user_set(
    user: UserArg,
    values: Annotated[list[str], typer.Argument(help="field=value pairs, e.g. enabled=true risk_pct=1.5.")],
    strategy: Annotated[str | None, typer.Option(help="Strategy level (with --side: strategy × side).")] = None,
    side: Annotated[str | None, typer.Option(help="long or short (needs --strategy).")] = None,
    exchange: Annotated[str | None, typer.Option(help="Exchange level, e.g. bybit.")] = None,
) -> None:
    """Change trading settings at one level (global when no level option is given)."""
    import json
    from decimal import Decimal

    from elcaro.models import Exchange, PositionSide, SettingsKey, SettingsScope
    from elcaro.models.errors import ValidationError

    changes: dict[str, Any] = {}
    for pair in values:
        name, sep, text = pair.partition("=")
        if not sep:
            raise fail(f"expected field=value, got {pair!r}")
        try:
            changes[name] = json.loads(text, parse_float=Decimal)  # 0.1 stays exactly 0.1
        except json.JSONDecodeError:
            changes[name] = text  # a plain word, such as a direction or an order type

    async def go(platform: Platform) -> dict[str, Any]:
        found = await resolve_user(platform, user)
        try:
            if strategy and side:
                key = SettingsKey(SettingsScope.STRATEGY_SIDE, strategy=strategy, side=PositionSide(side))
            elif strategy:
                key = SettingsKey(SettingsScope.STRATEGY, strategy=strategy)
            elif exchange:
                key = SettingsKey(SettingsScope.EXCHANGE, exchange=Exchange(exchange))
            else:
                key = SettingsKey(SettingsScope.GLOBAL)
        except ValueError as exc:
            raise ValidationError(str(exc), field="level") from None
        stored = await platform.preferences.update(found.id, key, changes)
        return dict(stored.values)

    typer.echo(json.dumps(with_platform(go), sort_keys=True, default=str))


@user_app.command("ban")
def user_ban(user: UserArg, reason: Annotated[str, typer.Option(help="Why; kept in the audit log.")] = "") -> None:
    """Ban a user: no trading, no bot answers beyond a short notice."""
    _user_action("ban", reason=reason)(user)


ExchangeOpt = Annotated[str, typer.Option(help="Venue the candles belong to, e.g. bybit.")]
SymbolOpt = Annotated[str, typer.Option(help="Canonical symbol, e.g. BTC/USDT:USDT.")]
TimeframeOpt = Annotated[str, typer.Option(help="Candle timeframe, e.g. 5m.")]


@data_app.command("import")
def data_import(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV: timestamp,open,high,low,close,volume.")
    ],
    exchange: ExchangeOpt,
    symbol: SymbolOpt,
    timeframe: TimeframeOpt,
) -> None:
    """Import a candle CSV into the candle store (all rows or none)."""
    report = with_platform(
        lambda p: p.market_data.import_csv(path, exchange=exchange, symbol=symbol, timeframe=timeframe)
    )
    typer.echo(f"stored {report.stored} candles; {report.health.summary()}")


@data_app.command("health")
def data_health(exchange: ExchangeOpt, symbol: SymbolOpt, timeframe: TimeframeOpt) -> None:
    """Gaps, duplicates and coverage of stored candles."""
    health = with_platform(lambda p: p.market_data.health(exchange, symbol, timeframe))
    typer.echo(health.summary())
    for gap in health.gaps[:20]:
        typer.echo(f"  gap of {gap.count} from {gap.start} to {gap.end}")


# --- signal: try formats, feed the running platform, configure sources -----------------------------

signal_app = typer.Typer(
    help="Signals: try formats, send posts to the running platform, sources.", no_args_is_help=True
)
app.add_typer(signal_app, name="signal")

# Telegram channel ids are negative numbers, and posts may start with a dash: neither is an option.
_TAKES_DASHES = {"ignore_unknown_options": True}
PostArg = Annotated[str, typer.Argument(help="The post's text; - reads it from standard input.")]


def _post_text(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


def _console() -> Any:
    from rich.console import Console

    # Piped output (a script, a test) gets full width rather than rich's 80-column default.
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def _print_sources(sources: list[Any]) -> None:
    from rich.table import Table

    from elcaro.core.clock import to_datetime

    table = Table("kind", "source", "strategy", "max lag (s)", "enabled", "secret", "created (UTC)")
    for s in sources:
        table.add_row(
            str(s.source.kind),
            s.source.ref,
            s.strategy or "(the format's)",
            "" if s.max_lag_s is None else str(s.max_lag_s),
            "yes" if s.enabled else "no",
            "set" if s.has_secret else "",
            to_datetime(s.created_at).strftime("%Y-%m-%d %H:%M"),
        )
    _console().print(table)


@signal_app.command("parse", context_settings=_TAKES_DASHES)
def signal_parse(text: PostArg) -> None:
    """Show what the built-in formats read in a post (nothing is stored)."""
    from elcaro.services.signal_ingest import parse_post

    result = parse_post(_post_text(text))
    lines = [("outcome", str(result.outcome))]
    if result.parser:
        lines.append(("parser", result.parser))
    if result.reason:
        lines.append(("reason", f"{result.field}: {result.reason}" if result.field else result.reason))
    if result.cancel is not None:
        lines.append(("symbol", result.cancel.symbol))
    signal = result.signal
    if signal is not None:
        shares = signal.entry.shares
        prices = [f"{price} ({shares[i]:%})" if shares else str(price) for i, price in enumerate(signal.entry.prices)]
        entry = " ".join([str(signal.entry.kind), *prices])
        targets = ", ".join(
            f"{tp.price}" + (f" ({tp.share:%})" if tp.share is not None else "") for tp in signal.take_profits
        )
        lines += [
            ("strategy", signal.strategy),
            ("symbol", signal.symbol),
            ("side", str(signal.side)),
            ("entry", entry),
            ("take profits", targets or "-"),
            ("stop loss", str(signal.stop_loss or "-")),
            ("leverage", str(signal.leverage or "-")),
            ("timeframe", signal.timeframe or "-"),
        ]
        if signal.quality:
            lines.append(("quality", signal.quality))
        if signal.score is not None:
            lines.append(("score", str(signal.score)))
    for name, value in lines:
        typer.echo(f"{name + ':':14}{value}")


@signal_app.command("send", context_settings=_TAKES_DASHES)
def signal_send(text: PostArg) -> None:
    """Drop a post into the inbox of the configured data dir; a running platform reads it within a second."""
    from elcaro.models.errors import ElcaroError
    from elcaro.services.signal_inbox import drop_post, inbox_directory

    directory = inbox_directory(load_cli_settings().data_dir)
    try:
        path = drop_post(directory, _post_text(text))
    except ElcaroError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"queued {path}; the result goes to {directory / 'done'} or {directory / 'rejected'}")


@signal_app.command("sources")
def signal_sources() -> None:
    """List the configured signal sources."""
    _print_sources(with_platform(lambda p: p.signal_sources.list_sources()))


@signal_app.command("add-webhook")
def signal_add_webhook(
    name: Annotated[str, typer.Argument(help="Source name, the last part of the webhook URL.")],
    strategy: Annotated[str, typer.Option(help="The strategy every alert of this source must name.")],
    max_lag: Annotated[int, typer.Option(help="Seconds after which an alert is too old to act on.")] = 60,
) -> None:
    """Add a webhook source; prints its secret, which is shown this once only."""
    created = with_platform(lambda p: p.signal_sources.add_webhook(name, strategy=strategy, max_lag_s=max_lag))
    _print_sources([created.source])
    typer.echo(f"secret: {created.secret.reveal()}")
    typer.echo('Put it in the alert\'s JSON as "secret"; it is stored encrypted and cannot be shown again.')


@signal_app.command("add-channel", context_settings=_TAKES_DASHES)
def signal_add_channel(
    channel_id: Annotated[str, typer.Argument(help="The channel's numeric Telegram id, e.g. -1001234567890.")],
    strategy: Annotated[
        str | None, typer.Option(help="File every post under this strategy (default: the format's own).")
    ] = None,
) -> None:
    """Accept signals posted in a Telegram channel."""
    _print_sources([with_platform(lambda p: p.signal_sources.add_channel(channel_id, strategy=strategy))])


@signal_app.command("recent")
def signal_recent(limit: Annotated[int, typer.Option(min=1, max=1000)] = 20) -> None:
    """The newest stored posts and what became of each."""
    from rich.table import Table

    from elcaro.core.clock import to_datetime

    table = Table("id", "received (UTC)", "source", "status", "strategy", "symbol", "side", "reason")
    for s in with_platform(lambda p: p.signal_sources.recent_signals(limit)):
        table.add_row(
            str(s.id),
            to_datetime(s.received_at).strftime("%Y-%m-%d %H:%M:%S"),
            str(s.source),
            s.status,
            s.strategy or "",
            s.symbol or "",
            s.side or "",
            s.reason or "",
        )
    _console().print(table)
