"""Configuration: ``ELCARO_*`` environment variables, a ``.env`` file and one TOML file.

Precedence, highest first: arguments to :func:`load_settings`, environment, ``.env``, the TOML
file (``ELCARO_CONFIG_FILE``, default ``elcaro.toml`` in the working directory when it exists),
defaults. A wrong value stops start-up with :class:`ConfigError` naming the setting and what is
allowed; an unknown key in the TOML file or ``.env`` is an error too, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from elcaro.models.errors import ConfigError

ENV_PREFIX = "ELCARO_"
DEFAULT_CONFIG_FILE = "elcaro.toml"


class Settings(BaseSettings):
    """Every setting of the platform. Field ``x`` is ``ELCARO_X`` in the environment and ``x`` in TOML."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="forbid", frozen=True
    )

    data_dir: Path = Field(Path("data"), description="Where the SQLite database, key file and backups live.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: SQLite file in data_dir. "
        "PostgreSQL: postgresql+asyncpg://user:password@host:5432/dbname",
    )
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, le=600_000)
    master_key: SecretStr | None = Field(
        None,
        description="Base64 (url-safe) 32-byte master key(s), comma-separated, the one to encrypt with first. "
        "When unset, master_key_file is used and created on first run.",
    )
    master_key_file: Path | None = Field(None, description="Default: <data_dir>/master.key (mode 0600).")
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids that are admins from the first start (comma-separated)."
    )
    simulator_port: int = Field(
        8950, ge=0, le=65535, description="Port of the local Bybit-compatible simulator (0: any free port)."
    )
    simulator_config_file: Path | None = Field(
        None, description="TOML for the simulator (accounts, instruments, prices, faults); its port is simulator_port."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host:port/dbname")
        return url

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'elcaro.db').resolve()}"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def _config_file() -> Path | None:
    named = os.environ.get(f"{ENV_PREFIX}CONFIG_FILE")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{ENV_PREFIX}CONFIG_FILE: no such file: {path}")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Read and validate every source; raise :class:`ConfigError` with one line per problem."""
    try:
        return Settings(**overrides)
    except PydanticValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            setting = f"{ENV_PREFIX}{name.upper()}" if error["type"] != "extra_forbidden" else name
            shown = "" if "key" in name.lower() else f" (got {error.get('input')!r})"
            message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{setting}: {message}{shown}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
    except ValueError as exc:  # a malformed TOML file or .env line
        raise ConfigError(f"invalid configuration file: {exc}") from None
