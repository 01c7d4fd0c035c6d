"""``elcaro ledger``: check the ELC chain, look at balances and history, adjust, pay staking interest."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from elcaro.cli.common import fail, resolve_user, with_platform

if TYPE_CHECKING:
    from elcaro.models import Balances, LedgerReport, LedgerTransaction
    from elcaro.services.ledger import StakingAccrual
    from elcaro.services.platform import Platform

app = typer.Typer(
    help="The ELC ledger: verify the chain, balances, history, adjustments, staking.", no_args_is_help=True
)

UserArg = Annotated[str, typer.Argument(help="Platform user id, or tg:<Telegram id>.")]
# A negative adjustment ("-5") must not be read as an option.
_TAKES_DASHES = {"ignore_unknown_options": True}


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    # Piped output (a script, a test) gets full width rather than rich's 80-column default.
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False, stderr=stderr)


@app.command()
def verify() -> None:
    """Walk the whole hash chain and check every balance; exit code 1 and the first broken link if it fails."""
    report: LedgerReport = with_platform(lambda p: p.ledger.verify())
    summary = (
        f"{report.transactions} transactions, {report.accounts} accounts, head #{report.head_seq} {report.head_hash}"
    )
    if report.ok:
        typer.echo(f"ledger verified: {summary}")
        return
    console = _console(stderr=True)
    first = report.first_problem
    assert first is not None
    console.print(f"[bold red]ledger verification FAILED[/] ({summary})")
    console.print(f"first broken link: {first.message}")
    for problem in report.problems[1:]:
        console.print(f"  also: {problem.message}")
    if report.problems_truncated:
        console.print(f"  … more than {len(report.problems)} problems; the first ones are shown")
    raise typer.Exit(1)


@app.command()
def balance(user: UserArg) -> None:
    """A user's available, locked (staked) and total ELC."""
    from elcaro.models import format_elc

    async def go(platform: Platform) -> Balances:
        found = await resolve_user(platform, user)
        return await platform.ledger.balance(found.id)

    balances = with_platform(go)
    typer.echo(f"available: {format_elc(balances.available)} ELC")
    typer.echo(f"locked:    {format_elc(balances.locked)} ELC")
    typer.echo(f"total:     {format_elc(balances.total)} ELC")


@app.command()
def history(
    user: UserArg,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many transactions.")] = 20,
    before: Annotated[int | None, typer.Option(help="Only transactions before this sequence number.")] = None,
) -> None:
    """A user's transactions, newest first, with what each did to their balance."""
    from rich.table import Table

    from elcaro.core.clock import to_datetime
    from elcaro.models import AccountRef, format_elc

    async def go(platform: Platform) -> tuple[int, list[LedgerTransaction]]:
        found = await resolve_user(platform, user)
        return found.id, await platform.ledger.history(found.id, limit=limit, before=before)

    user_id, transactions = with_platform(go)
    table = Table("#", "time (UTC)", "kind", "available", "locked", "memo", "key")
    for t in transactions:
        available = t.amount_for(AccountRef.available(user_id))
        locked = t.amount_for(AccountRef.locked(user_id))
        table.add_row(
            str(t.seq),
            to_datetime(t.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            str(t.kind),
            _signed(format_elc(available)) if available else "",
            _signed(format_elc(locked)) if locked else "",
            t.memo or t.reference or "",
            t.key,
        )
    _console().print(table)


def _signed(text: str) -> str:
    return text if text.startswith("-") else f"+{text}"


@app.command(context_settings=_TAKES_DASHES)
def adjust(
    user: UserArg,
    amount: Annotated[str, typer.Argument(help="ELC to add, or to take with a leading minus, e.g. 12.5 or -3.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the journal and the audit log.")],
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: running again with the same key changes nothing.")
    ] = None,
) -> None:
    """Correct a user's available balance by hand (as the operator), with a reason."""
    import uuid

    from elcaro.models import format_elc, parse_elc
    from elcaro.models.errors import ValidationError

    try:
        minor = parse_elc(amount)
    except ValidationError as exc:
        raise fail(str(exc)) from None
    chosen = key or f"adjust:{uuid.uuid4()}"

    async def go(platform: Platform) -> tuple[LedgerTransaction, Balances]:
        found = await resolve_user(platform, user)
        transaction = await platform.ledger.adjust(None, found.id, minor, reason=reason, key=chosen)
        return transaction, await platform.ledger.balance(found.id)

    transaction, balances = with_platform(go)
    typer.echo(f"adjustment #{transaction.seq} ({_signed(format_elc(minor))} ELC), key {chosen}")
    typer.echo(f"available now: {format_elc(balances.available)} ELC")


@app.command("accrue-staking")
def accrue_staking() -> None:
    """Pay today's staking interest on every locked balance (running it again the same UTC day pays nothing)."""
    from elcaro.models import format_elc

    result: StakingAccrual = with_platform(lambda p: p.ledger.accrue_staking())
    typer.echo(
        f"staking interest for {result.period}: {result.paid} of {result.holders} holders paid, "
        f"{format_elc(result.amount)} ELC"
    )
