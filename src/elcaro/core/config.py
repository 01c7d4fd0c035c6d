"""Configuration: ``ELCARO_*`` environment variables, a ``.env`` file and one TOML file.

Precedence, highest first: arguments to :func:`load_settings`, environment, ``.env``, the TOML
file (``ELCARO_CONFIG_FILE``, default ``elcaro.toml`` in the working directory when it exists),
defaults. A wrong value stops start-up with :class:`ConfigError` naming the setting and what is
allowed; an unknown key in the TOML file or ``.env`` is an error too, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import os
from decimal import Decimal
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

from elcaro.models.errors import ConfigError, ValidationError
from elcaro.models.ledger import parse_elc

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
    telegram_bot_token: SecretStr | None = Field(
        None, description="Token of the Telegram bot (from @BotFather); unset: no bot is started."
    )
    telegram_api_base_url: str = Field(
        "https://api.telegram.org", description="Telegram Bot API server (a local Bot API server, or a test fake)."
    )
    telegram_bot_username: str | None = Field(
        None,
        pattern=r"^@?[A-Za-z0-9_]{5,32}$",
        description="The bot's @username: the web login page links to the bot and to Telegram's login with it.",
    )

    # Licences and payments. Prices are ELC a month; a longer period takes its discount off the total.
    licence_price_basic: Decimal = Field(Decimal(25), gt=0, description="ELC a month for the basic licence.")
    licence_price_premium: Decimal = Field(Decimal(50), gt=0, description="ELC a month for the premium licence.")
    licence_price_enterprise: Decimal = Field(Decimal(250), gt=0, description="ELC a month for enterprise.")
    licence_discount_3m_pct: Decimal = Field(Decimal(5), ge=0, lt=100, description="% off a 3-month licence.")
    licence_discount_6m_pct: Decimal = Field(Decimal(10), ge=0, lt=100, description="% off a 6-month licence.")
    licence_discount_12m_pct: Decimal = Field(Decimal(20), ge=0, lt=100, description="% off a 12-month licence.")
    licence_trial_days: int = Field(7, ge=1, le=90, description="Length of the trial, which each user gets once.")
    licence_basic_strategies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["scryptomera", "scalper", "elcaro"],
        description="Strategies the basic licence copies (comma-separated).",
    )
    licence_enterprise_strategies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Strategies only enterprise copies (comma-separated)."
    )
    licence_enterprise_features: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Named extras the interfaces unlock for enterprise (comma-separated)."
    )
    licence_paper_free: bool = Field(True, description="Paper targets (the local simulator) need no licence.")
    licence_warn_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [3, 1], description="Days before expiry a holder is warned, once each."
    )
    stars_per_elc: Decimal | None = Field(
        None, gt=0, description="Telegram Stars asked per ELC of a licence's price; unset: no Stars payments."
    )
    crypto_pay_url: str = Field("https://pay.crypt.bot/api", description="Crypto Pay API base URL (@CryptoBot).")
    crypto_pay_token: SecretStr | None = Field(None, description="Crypto Pay app token; unset: no crypto payments.")
    crypto_pay_asset: str = Field("USDT", pattern=r"^[A-Z0-9]{2,10}$", description="Asset crypto invoices ask for.")
    crypto_pay_asset_per_elc: Decimal | None = Field(
        None, gt=0, description="Units of crypto_pay_asset asked per ELC of a licence's price."
    )
    crypto_pay_invoice_ttl_s: int = Field(
        3600, ge=60, le=2_678_400, description="How long a crypto invoice is payable."
    )

    # The ELC ledger and referrals. Amounts are ELC with at most 8 decimal places.
    ledger_transfer_fee_percent: Decimal = Field(
        Decimal(0), ge=0, le=50, description="Fee on ELC transfers, % of the amount, paid by the sender (rounded up)."
    )
    ledger_transfer_fee_fixed: Decimal = Field(
        Decimal(0), ge=0, description="Fixed fee per ELC transfer in ELC, paid by the sender on top of the percentage."
    )
    ledger_staking_yearly_percent: Decimal = Field(
        Decimal(5), ge=0, le=100, description="Yearly interest on locked (staked) ELC, paid daily by accrue-staking."
    )
    referral_signup_reward: Decimal = Field(
        Decimal(10), ge=0, description="ELC paid to the referrer when a referred user is approved (0: none)."
    )
    referral_payment_percent: Decimal = Field(
        Decimal(10), ge=0, le=100, description="% of each licence payment by a referred user paid to the referrer."
    )

    # Equity history, the portfolio's equity curve.
    equity_snapshot_interval_s: int = Field(
        900, ge=60, le=86_400, description="How often every trader's equity on each enabled target is recorded."
    )

    # The breakout strategy engine, run by `elcaro run` when enabled (`elcaro engine run` runs it on its own).
    engine_enabled: bool = Field(False, description="Run the strategy engine inside `elcaro run`.")
    engine_preset: str = Field("liquid", description="Engine preset: a shipped preset's name or a preset file's path.")
    engine_mode: Literal["paper", "live"] = Field("paper", description="paper: a *:paper target; live: a real one.")
    engine_target: str = Field("bybit:paper", description="exchange:environment the engine trades on.")
    engine_user_id: int | None = Field(
        None, ge=1, description="The operator user whose account on engine_target the engine trades."
    )
    engine_universe: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Symbols the engine may trade (comma-separated); empty: every USDT perpetual."
    )
    engine_allow_live: bool = Field(False, description="Required for engine_mode live: it then trades real money.")
    engine_publish_signals: bool | None = Field(
        None, description="Publish the engine's entries as copy-trading signals (strategy elcaro); unset: paper only."
    )

    # The web app (REST API, websocket, Mini App back end). Off until a port is chosen: it can move money.
    web_host: str = Field("127.0.0.1", description="Address the web app listens on (put a TLS proxy in front).")
    web_port: int | None = Field(
        None, ge=0, le=65535, description="Port of the web app; unset: no web app is started (0: any free port)."
    )
    web_jwt_secret: SecretStr | None = Field(
        None,
        min_length=32,
        description="Key that signs the web app's access tokens (32+ characters). Unset: a random key made on "
        "first start and stored encrypted in the database, shared by every process using it.",
    )
    web_auth_max_age_s: int = Field(
        3600, ge=60, le=7 * 86400, description="Oldest Telegram login (Mini App initData, Login Widget) accepted."
    )
    web_access_token_ttl_s: int = Field(900, ge=60, le=3600, description="Lifetime of a web access token.")
    web_refresh_token_ttl_s: int = Field(
        30 * 86400, ge=3600, le=90 * 86400, description="Lifetime of a web session without use (refresh token)."
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host:port/dbname")
        return url

    @field_validator(
        "admin_telegram_ids",
        "engine_universe",
        "licence_basic_strategies",
        "licence_enterprise_strategies",
        "licence_enterprise_features",
        "licence_warn_days",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """A list in the environment or ``.env`` is comma-separated; TOML gives a real list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "licence_price_basic",
        "licence_price_premium",
        "licence_price_enterprise",
        "ledger_transfer_fee_fixed",
        "referral_signup_reward",
    )
    @classmethod
    def _exact_elc(cls, amount: Decimal) -> Decimal:
        """An ELC amount the ledger holds exactly: at most ``ELC_DECIMALS`` places, within its range."""
        try:
            parse_elc(amount)
        except ValidationError as error:  # pydantic names the setting only for a ValueError
            raise ValueError(error.reason) from None
        return amount

    @field_validator("licence_warn_days")
    @classmethod
    def _warn_days(cls, days: list[int]) -> list[int]:
        if any(not 1 <= day <= 90 for day in days):
            raise ValueError("each warning is 1 to 90 days before expiry")
        return sorted(set(days), reverse=True)

    @field_validator("telegram_api_base_url")
    @classmethod
    def _bot_api_url(cls, url: str) -> str:
        # The bot token travels in the URL path: plain HTTP only to this machine.
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError("use https:// (plain http only to 127.0.0.1 or localhost)")
        return url.rstrip("/")

    @field_validator("crypto_pay_url")
    @classmethod
    def _provider_url(cls, url: str) -> str:
        # Plain HTTP only to this machine (a local fake in tests): the token travels in a header.
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError("use https:// (plain http only to 127.0.0.1 or localhost)")
        return url.rstrip("/")

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
            secret = any(word in name.lower() for word in ("key", "token", "secret"))
            shown = "" if secret else f" (got {error.get('input')!r})"
            message = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{setting}: {message}{shown}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
    except ValueError as exc:  # a malformed TOML file or .env line
        raise ConfigError(f"invalid configuration file: {exc}") from None
