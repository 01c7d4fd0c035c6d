"""``elcaro user approve`` pays the referrer's signup reward, as approving from the bot or the web app does."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_process import elcaro, environment

from elcaro.core.config import Settings
from elcaro.models import LedgerKind, TelegramProfile
from elcaro.services.platform import Platform

ELC = 10**8

pytestmark = pytest.mark.db


def run(env: dict[str, str], *args: str) -> str:
    return elcaro(env, *args).stdout


async def test_approving_from_the_command_line_pays_the_signup_reward_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = environment(tmp_path, empty_database_url)
    run(env, "db", "upgrade")
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=empty_database_url)  # type: ignore[call-arg]
    async with Platform.open(settings) as platform:  # registered through the bot's /start with a referral link
        referrer = await platform.users.register(TelegramProfile(1001))
        await platform.users.register(TelegramProfile(1002), referral_code=referrer.referral_code)

    assert "approved" in run(env, "user", "approve", "tg:1002")
    run(env, "user", "approve", "tg:1002")  # again: approved already, nothing more is paid

    async with Platform.open(settings) as platform:
        assert (await platform.ledger.balance(referrer.id)).available == 10 * ELC  # the default signup reward
        history = await platform.ledger.history(referrer.id)
        assert [entry.kind for entry in history] == [LedgerKind.REFERRAL]
        assert await platform.referrals.pay_pending_signup_rewards() == 0
