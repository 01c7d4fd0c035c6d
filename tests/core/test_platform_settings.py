import os
from pathlib import Path

import pytest

from elcaro.core.config import load_settings
from elcaro.models.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test sees only the settings it sets: no ELCARO_* from the caller, no .env, no elcaro.toml."""
    for name in list(os.environ):
        if name.startswith("ELCARO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_nothing() -> None:
    settings = load_settings()
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.resolved_database_url.endswith("/data/elcaro.db")
    assert settings.resolved_master_key_file == Path("data/master.key")


def test_environment_overrides_file_and_file_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("elcaro.toml").write_text('log_level = "DEBUG"\nadmin_telegram_ids = [5, 6]\ndata_dir = "/srv/elcaro"\n')
    monkeypatch.setenv("ELCARO_ADMIN_TELEGRAM_IDS", "7, 8")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.admin_telegram_ids == [7, 8]
    assert settings.resolved_database_url == "sqlite+aiosqlite:////srv/elcaro/elcaro.db"


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("ELCARO_LOG_FORMAT=json\n")
    assert load_settings().log_format == "json"


def test_a_wrong_value_names_the_setting_and_what_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELCARO_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("ELCARO_SQLITE_BUSY_TIMEOUT_MS", "-5")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ELCARO_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR' (got 'LOUD')" in message
    assert "ELCARO_SQLITE_BUSY_TIMEOUT_MS: Input should be greater than or equal to 0" in message


def test_unknown_database_driver_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELCARO_DATABASE_URL", "mysql://root@localhost/elcaro")
    with pytest.raises(ConfigError, match=r"ELCARO_DATABASE_URL: .*postgresql\+asyncpg://"):
        load_settings()


def test_a_typo_in_the_config_file_is_an_error_not_a_default() -> None:
    Path("elcaro.toml").write_text('log_levle = "DEBUG"\n')
    with pytest.raises(ConfigError, match="log_levle: unknown setting"):
        load_settings()


def test_a_named_config_file_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELCARO_CONFIG_FILE", "missing.toml")
    with pytest.raises(ConfigError, match=r"no such file: missing\.toml"):
        load_settings()


def test_a_bad_master_key_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELCARO_SQLITE_BUSY_TIMEOUT_MS", "x")
    monkeypatch.setenv("ELCARO_MASTER_KEY", "not-shown-anywhere")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "not-shown-anywhere" not in str(caught.value)
