"""LicenceService on SQLite and PostgreSQL: trial, admin grants, extension rules, promo codes, expiry."""

from __future__ import annotations

import asyncio

import pytest
from licence_accounts import T0, Accounts

from elcaro.models import Target
from elcaro.models.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from elcaro.models.licence import LicenceSource, LicenceTier
from elcaro.models.timeframe import DAY_MS

pytestmark = pytest.mark.db

LIVE = Target.parse("bybit:live")
DEMO = Target.parse("bybit:demo")


async def audit_actions(accounts: Accounts, user_id: int) -> list[str]:
    async with accounts.database.transaction() as tx:
        entries = await tx.audit.list(subject=f"user:{user_id}")
    return [entry.action for entry in entries if entry.action.startswith("licence.")]


async def test_the_trial_is_once_per_user(accounts: Accounts) -> None:
    user = await accounts.user()
    assert (await accounts.licences.current(user)).trial_available
    trial = await accounts.licences.start_trial(user)
    assert (trial.tier, trial.source, trial.starts_at, trial.expires_at) == (
        LicenceTier.TRIAL,
        LicenceSource.TRIAL,
        T0,
        T0 + 7 * DAY_MS,
    )
    status = await accounts.licences.current(user)
    assert status.tier is LicenceTier.TRIAL and not status.trial_available
    assert (await accounts.licences.allows(user, "fibonacci", DEMO)).allowed
    assert not (await accounts.licences.allows(user, "fibonacci", LIVE)).allowed

    accounts.clock.advance(30 * DAY_MS)  # long over: still once
    with pytest.raises(ConflictError, match="once per user"):
        await accounts.licences.start_trial(user)
    assert len(await accounts.licences.history(user)) == 1


async def test_concurrent_trial_requests_start_one_trial(accounts: Accounts) -> None:
    user = await accounts.user()
    outcomes = await asyncio.gather(*(accounts.licences.start_trial(user) for _ in range(6)), return_exceptions=True)
    assert sum(1 for outcome in outcomes if not isinstance(outcome, BaseException)) == 1
    assert all(isinstance(o, ConflictError) for o in outcomes if isinstance(o, BaseException))
    assert len(await accounts.licences.history(user)) == 1


async def test_admin_grant_extend_and_revoke_are_audited(accounts: Accounts) -> None:
    admin = await accounts.user(admin=True)
    user = await accounts.user()
    other = await accounts.user()

    granted = await accounts.licences.grant(admin, user, "premium", 30, "beta tester")
    assert (granted.tier, granted.source, granted.expires_at) == (
        LicenceTier.PREMIUM,
        LicenceSource.ADMIN,
        T0 + 30 * DAY_MS,
    )
    extended = await accounts.licences.extend(None, user, 5, "apology for downtime")
    assert extended.id == granted.id and extended.expires_at == T0 + 35 * DAY_MS
    assert (await accounts.licences.allows(user, "anything", LIVE)).allowed

    revoked = await accounts.licences.revoke(admin, user, "chargeback")
    assert [licence.revoke_reason for licence in revoked] == ["chargeback"]
    refusal = await accounts.licences.allows(user, "anything", LIVE)
    assert not refusal.allowed and "revoked" in refusal.reason
    assert await audit_actions(accounts, user) == ["licence.revoke", "licence.extend", "licence.grant"]

    with pytest.raises(PermissionDeniedError, match="only an admin"):
        await accounts.licences.grant(other, user, "premium", 30, "helping a friend")
    with pytest.raises(NotFoundError, match="no active licence to revoke"):
        await accounts.licences.revoke(None, user, "again")
    with pytest.raises(NotFoundError, match="no active licence to extend"):
        await accounts.licences.extend(None, user, 5, "nothing to extend")
    with pytest.raises(ValidationError, match="reason"):
        await accounts.licences.grant(None, user, "basic", 30, "  ")
    with pytest.raises(ValidationError, match="unknown licence tier 'gold'"):
        await accounts.licences.grant(None, user, "gold", 30, "typo")
    with pytest.raises(NotFoundError, match="no user with id 999"):
        await accounts.licences.grant(None, 999, "basic", 30, "nobody")
    assert await audit_actions(accounts, user) == ["licence.revoke", "licence.extend", "licence.grant"]


async def test_extension_rules_same_higher_and_lower_tier(accounts: Accounts) -> None:
    user = await accounts.user()
    basic = await accounts.licences.grant(None, user, "basic", 30, "start")
    accounts.clock.advance(10 * DAY_MS)

    same = await accounts.licences.grant(None, user, "basic", 30, "same tier")
    assert same.id == basic.id and same.expires_at == T0 + 60 * DAY_MS  # from the current expiry

    premium = await accounts.licences.grant(None, user, "premium", 30, "upgrade")
    now = T0 + 10 * DAY_MS
    # 50 days of basic left at 25 ELC are worth 25 days of premium at 50 ELC.
    assert (premium.starts_at, premium.expires_at) == (now, now + 55 * DAY_MS)
    history = {licence.id: licence for licence in await accounts.licences.history(user)}
    assert history[basic.id].expires_at == now  # ended by the upgrade

    lower = await accounts.licences.grant(None, user, "basic", 30, "downgrade")
    assert lower.id != basic.id and (lower.starts_at, lower.expires_at) == (now, now + 30 * DAY_MS)
    status = await accounts.licences.current(user)
    assert [licence.tier for licence in status.active] == [LicenceTier.PREMIUM, LicenceTier.BASIC]
    assert status.tier is LicenceTier.PREMIUM and status.expires_at == premium.expires_at
    assert (await accounts.licences.allows(user, "fibonacci", Target.parse("binance:live"))).allowed

    quote = await accounts.licences.quote(user, "basic", 1)
    assert quote.plan.extend is not None and quote.plan.extend.id == lower.id


async def test_promo_codes_limit_uses_once_per_user_and_by_date(accounts: Accounts) -> None:
    admin = await accounts.user(admin=True)
    first, second, third = [await accounts.user() for _ in range(3)]
    promo = await accounts.licences.create_promo(admin, " summer-25 ", "premium", 14, 2, T0 + 10 * DAY_MS)
    assert (promo.code, promo.uses, promo.max_uses) == ("SUMMER-25", 0, 2)

    licence = await accounts.licences.redeem_promo(first, "Summer-25")
    assert (licence.tier, licence.source, licence.expires_at) == (
        LicenceTier.PREMIUM,
        LicenceSource.PROMO,
        T0 + 14 * DAY_MS,
    )
    with pytest.raises(ConflictError, match="already redeemed the promo code SUMMER-25"):
        await accounts.licences.redeem_promo(first, "SUMMER-25")
    await accounts.licences.redeem_promo(second, "SUMMER-25")
    with pytest.raises(ConflictError, match="used up"):
        await accounts.licences.redeem_promo(third, "SUMMER-25")
    assert [p.uses for p in await accounts.licences.promos()] == [2]

    await accounts.licences.create_promo(None, "LATE", "basic", 7, 100, T0 + DAY_MS)
    accounts.clock.advance(DAY_MS)
    with pytest.raises(ConflictError, match="LATE has expired"):
        await accounts.licences.redeem_promo(third, "late")
    with pytest.raises(NotFoundError, match="no promo code NOPE"):
        await accounts.licences.redeem_promo(third, "nope")
    assert await accounts.licences.history(third) == []

    with pytest.raises(ConflictError, match="exists already"):
        await accounts.licences.create_promo(None, "late", "basic", 7, 1)
    with pytest.raises(ValidationError, match="promo code is 3 to 32"):
        await accounts.licences.create_promo(None, "a b", "basic", 7, 1)
    with pytest.raises(ValidationError, match="expired already"):
        await accounts.licences.create_promo(None, "PAST", "basic", 7, 1, T0)
    with pytest.raises(PermissionDeniedError):
        await accounts.licences.create_promo(first, "MINE", "enterprise", 365, 1000)


async def test_concurrent_redemptions_never_pass_the_limit(accounts: Accounts) -> None:
    await accounts.licences.create_promo(None, "RUSH", "basic", 7, 3)
    users = [await accounts.user() for _ in range(8)]
    outcomes = await asyncio.gather(
        *(accounts.licences.redeem_promo(user, "RUSH") for user in users), return_exceptions=True
    )
    succeeded = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(succeeded) == 3
    assert all(isinstance(o, ConflictError) and "used up" in str(o) for o in outcomes if isinstance(o, BaseException))
    assert [p.uses for p in await accounts.licences.promos()] == [3]

    one = await accounts.user()
    await accounts.licences.create_promo(None, "TWICE", "basic", 7, 10)
    twice = await asyncio.gather(
        *(accounts.licences.redeem_promo(one, "TWICE") for _ in range(4)), return_exceptions=True
    )
    assert sum(1 for o in twice if not isinstance(o, BaseException)) == 1
    assert len(await accounts.licences.history(one)) == 1


async def test_an_expired_licence_refuses_new_entries_with_the_reason(accounts: Accounts) -> None:
    user = await accounts.user()
    await accounts.licences.grant(None, user, "basic", 30, "paid by bank")
    assert (await accounts.licences.allows(user, "elcaro", LIVE)).allowed
    accounts.clock.advance(30 * DAY_MS)
    refusal = await accounts.licences.allows(user, "elcaro", LIVE)
    assert not refusal.allowed
    assert (
        refusal.reason == "the basic licence expired; renew it to take new entries (open positions are still managed)"
    )
    assert (await accounts.licences.current(user)).tier is None


async def test_admins_need_no_licence(accounts: Accounts) -> None:
    admin = await accounts.user(admin=True)
    assert (await accounts.licences.allows(admin, "anything", LIVE)).allowed
    assert await accounts.licences.has_feature(admin, "api")
    user = await accounts.user()
    await accounts.licences.grant(None, user, "enterprise", 30, "partner")
    assert await accounts.licences.has_feature(user, "api")
    assert not await accounts.licences.has_feature(user, "other")


async def test_the_copy_trading_book_answers_for_many_users_from_one_read(accounts: Accounts) -> None:
    basic, none, admin = await accounts.user(), await accounts.user(), await accounts.user(admin=True)
    await accounts.licences.grant(None, basic, "basic", 30, "x")
    async with accounts.database.transaction() as tx:
        book = await accounts.licences.book(tx, [basic, none, admin, 999], T0)
    assert book.allows(basic, "elcaro", LIVE).allowed
    assert not book.allows(basic, "fibonacci", LIVE).allowed
    assert not book.allows(none, "elcaro", LIVE).allowed
    assert book.allows(admin, "fibonacci", LIVE).allowed
    assert not book.allows(999, "elcaro", LIVE).allowed


async def test_expiry_warnings_go_out_once_per_threshold(accounts: Accounts) -> None:
    user = await accounts.user()
    subscription = accounts.licences.events.subscribe()
    licence = await accounts.licences.grant(None, user, "premium", 10, "x")
    assert await accounts.licences.send_expiry_warnings() == []

    accounts.clock.advance(7 * DAY_MS + 1)  # under 3 days left
    assert [licence.id for licence in await accounts.licences.licences_expiring(3 * DAY_MS)] == [licence.id]
    assert await accounts.licences.licences_expiring(2 * DAY_MS) == []
    [warning] = await accounts.licences.send_expiry_warnings()
    assert (warning.licence_id, warning.user_id, warning.threshold_days) == (licence.id, user, 3)
    assert await accounts.licences.send_expiry_warnings() == []

    accounts.clock.advance(2 * DAY_MS)  # under 1 day left
    assert [w.threshold_days for w in await accounts.licences.send_expiry_warnings()] == [1]
    assert await accounts.licences.send_expiry_warnings() == []
    assert [(await subscription.get()).threshold_days for _ in range(2)] == [3, 1]

    await accounts.licences.extend(None, user, 2, "goodwill")  # a new expiry: its warnings are new too
    assert [w.threshold_days for w in await accounts.licences.send_expiry_warnings()] == [3]
    accounts.clock.advance(10 * DAY_MS)
    assert await accounts.licences.send_expiry_warnings() == []  # expired: nothing more to warn of


async def test_a_late_job_sends_only_the_nearest_threshold(accounts: Accounts) -> None:
    user = await accounts.user()
    accounts.licences.events.subscribe()
    await accounts.licences.grant(None, user, "basic", 10, "x")
    accounts.clock.advance(9 * DAY_MS + 1)
    assert [w.threshold_days for w in await accounts.licences.send_expiry_warnings()] == [1]
    assert await accounts.licences.send_expiry_warnings() == []


async def test_no_warning_is_claimed_while_nobody_would_deliver_it(accounts: Accounts) -> None:
    user = await accounts.user()
    await accounts.licences.grant(None, user, "basic", 10, "x")
    accounts.clock.advance(8 * DAY_MS)
    assert await accounts.licences.send_expiry_warnings() == []  # a process without the bot: left for one with it
    subscription = accounts.licences.events.subscribe()
    [warning] = await accounts.licences.send_expiry_warnings()
    assert warning.threshold_days == 3 and (await subscription.get()) == warning
