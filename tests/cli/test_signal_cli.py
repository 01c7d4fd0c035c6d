"""``elcaro signal``: the real executable, run as an operator runs it."""

import re
from pathlib import Path

import pytest
from cli_process import elcaro, environment

CORNIX = """⚡⚡ #ETH/USDT ⚡⚡
Signal Type: Regular (Short)
Leverage: Isolated (20.0X)
Entry Targets:
1) 3385 - 50%
2) 3410 - 50%
Take-Profit Targets:
1) 3320 - 40%
2) 3275 - 60%
Stop Targets:
1) 3468 - 100%"""


def fields(output: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z ]+):\s+(.*)$", output, flags=re.MULTILINE))


def test_parse_shows_what_a_post_becomes_without_a_database(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert fields(elcaro(env, "signal", "parse", "SCALPER SHORT DOGEUSDT @ 0.08112").stdout) == {
        "outcome": "signal",
        "parser": "scalper",
        "strategy": "scalper",
        "symbol": "DOGE/USDT:USDT",
        "side": "short",
        "entry": "market 0.08112",
        "take profits": "-",
        "stop loss": "-",
        "leverage": "-",
        "timeframe": "-",
    }
    structured = fields(elcaro(env, "signal", "parse", "-", stdin=CORNIX).stdout)
    assert structured["entry"] == "ladder 3385 (50%) 3410 (50%)"
    assert structured["take profits"] == "3320 (40%), 3275 (60%)"
    assert (structured["leverage"], structured["stop loss"]) == ("20.0", "3468")

    rejected = fields(elcaro(env, "signal", "parse", "SCALPER SHORT DOGEUSDT").stdout)
    assert rejected == {"outcome": "rejected", "parser": "scalper", "reason": "entry: the line has no price"}
    assert fields(elcaro(env, "signal", "parse", "Cancel #ETH/USDT").stdout) == {
        "outcome": "cancel",
        "parser": "cancel",
        "symbol": "ETH/USDT:USDT",
    }
    assert fields(elcaro(env, "signal", "parse", "- not a signal, just a list item").stdout) == {"outcome": "nothing"}
    assert not (tmp_path / "data" / "elcaro.db").exists()


def test_send_drops_the_post_into_the_inbox(tmp_path: Path) -> None:
    env = environment(tmp_path)
    out = elcaro(env, "signal", "send", "SCALPER SHORT DOGEUSDT @ 0.08112").stdout
    inbox = tmp_path / "data" / "inbox"
    [post] = inbox.glob("*.txt")
    assert f"queued {post}" in out
    assert post.read_text(encoding="utf-8") == "SCALPER SHORT DOGEUSDT @ 0.08112"
    elcaro(env, "signal", "send", "-", stdin=CORNIX)
    assert CORNIX in [path.read_text(encoding="utf-8") for path in inbox.glob("*.txt")]

    empty = elcaro(env, "signal", "send", "   ", ok=False)
    assert empty.returncode == 1 and "a post needs some text" in empty.stderr and "Traceback" not in empty.stderr


@pytest.mark.db
def test_sources_are_added_and_listed_and_a_webhook_secret_is_shown_once(
    empty_database_url: str, tmp_path: Path
) -> None:
    env = environment(tmp_path, empty_database_url)
    elcaro(env, "db", "upgrade")

    created = elcaro(env, "signal", "add-webhook", "tv", "--strategy", "tv_breakout", "--max-lag", "30").stdout
    secret = re.search(r"^secret: (\S+)$", created, flags=re.MULTILINE)
    assert secret and len(secret[1]) >= 43
    assert "tv_breakout" in created and "30" in created
    channel = elcaro(env, "signal", "add-channel", "-1001234567890", "--strategy", "vip").stdout
    assert "-1001234567890" in channel and "vip" in channel
    elcaro(env, "signal", "add-channel", "-1005555")

    listed = elcaro(env, "signal", "sources").stdout
    assert secret[1] not in listed
    rows = [line for line in listed.splitlines() if "webhook" in line or "channel" in line]
    assert len(rows) == 3
    assert "set" in rows[0] and "(the format's)" in rows[2]

    again = elcaro(env, "signal", "add-webhook", "tv", "--strategy", "tv_breakout", ok=False)
    assert again.returncode == 1 and "exists already" in again.stderr
    bad_name = elcaro(env, "signal", "add-webhook", "TV Alerts", "--strategy", "x", ok=False)
    assert bad_name.returncode == 1 and "name:" in bad_name.stderr
    bad_channel = elcaro(env, "signal", "add-channel", "@vip", ok=False)
    assert bad_channel.returncode == 1 and "numeric id" in bad_channel.stderr
    assert "Traceback" not in again.stderr + bad_name.stderr + bad_channel.stderr

    recent = elcaro(env, "signal", "recent").stdout
    assert "status" in recent and "reason" in recent
