"""The one settings object of the service: `PIB_*` environment variables, then an optional TOML file.

Defaults need no set-up: an SQLite file under `var/`, an outbox folder of `.eml` files, the real source
endpoints (overridden by the tests and `pib demo` to point at the local replay server).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEVELOPMENT_SECRET = "development-only-secret-change-me"


class Feed(BaseModel):
    name: str = Field(pattern=r"[a-z0-9][a-z0-9_.-]*")
    url: str
    kind: Literal["feed", "listing"] = "feed"
    """`feed` for RSS/Atom; `listing` for an HTML page of links without a feed."""
    selector: str | None = None
    """For a listing: CSS selector of the entry links (default: the page's titled links outside menus)."""
    notice_type: Literal["contract-notice", "other"] = "contract-notice"
    """What the feed's entries are: calls for tenders, or anything else."""
    country: str | None = Field(default=None, pattern=r"[A-Z]{2}")
    """Country of the feed's buyers (ISO alpha-2), so regional profiles can match its entries."""
    language: str | None = Field(default=None, pattern=r"[a-z]{2}")
    """Language of the entries when the feed does not say it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIB_", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///var/pib.sqlite"
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET)

    # Sources (design.md §3): base URLs are settings so spiders run against the local replay server.
    ted_api_url: str = "https://api.ted.europa.eu"
    ted_countries: Annotated[list[str], NoDecode] = ["BEL", "FRA"]
    """Buyer countries of the TED search, alpha-3: `PIB_TED_COUNTRIES=BEL,FRA` or a JSON list."""
    boamp_api_url: str = "https://boamp-datadila.opendatasoft.com"
    be_api_url: str = "https://www.publicprocurement.be"
    be_token: SecretStr | None = None
    be_client_id: str | None = None
    be_client_secret: SecretStr | None = None
    feeds: list[Feed] = []

    # Crawling politeness.
    user_agent: str = "PIB tender monitor (+https://github.com/pib-portail/pib)"
    download_delay: float = 1.0
    max_requests_per_run: int = 5_000
    concurrent_requests: int = Field(default=2, ge=1)
    """Requests in flight per host (AutoThrottle lowers the pace further when a host slows down)."""
    autothrottle: bool = True
    download_timeout: float = Field(default=60.0, gt=0)
    retry_times: int = Field(default=5, ge=0)
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    """First wait before retrying a 5xx answer or a timeout; doubled at each attempt, at most 5 minutes."""
    retry_after_max_seconds: float = Field(default=600.0, ge=0)
    """Longest `Retry-After` honoured as asked; a longer one is waited this long, and said in the run's health."""
    crawl_overlap_days: int = Field(default=3, ge=0)
    """An incremental crawl re-reads this many days before its checkpoint (late or corrected publications)."""
    crawl_initial_days: int = Field(default=7, ge=1)
    """How far back the first crawl of a source goes, without a checkpoint and without `--since`."""
    crawl_window_notices: int = Field(default=5_000, ge=1)
    """A date window announcing more notices is split in halves (down to one day), so a long backfill
    moves its checkpoint as it goes and a capped run is continued, not restarted, by the next one."""
    crawl_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    be_token_url: str | None = None
    """OAuth2 token endpoint of the Belgian API, used with `be_client_id` and `be_client_secret`."""

    # Email.
    email_backend: Literal["outbox", "smtp", "sendgrid"] = "outbox"
    outbox_dir: Path = Path("var/outbox")
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "PIB <alerts@pib.example>"
    public_url: str = "http://localhost:8000"
    unsubscribe_mailto: str | None = None
    """The mailto of `List-Unsubscribe`; by default `unsubscribe@` the domain of `mail_from`."""
    link_ttl_days: int = Field(default=30, ge=1)
    """How long the "interested" and "not relevant" links of an email stay valid."""
    unsubscribe_ttl_days: int = Field(default=365, ge=1)
    reminder_days: list[int] = [7, 3, 1]
    """Deadline reminders for flagged tenders, in days before the deadline."""

    # The service (`pib serve`).
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    schedules: dict[str, str] = {}
    """Crontab expressions (Europe/Brussels) replacing the default of a job by id, or "off"."""

    @field_validator("ted_countries", mode="before")
    @classmethod
    def _split_countries(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [part.strip().upper() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_development_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
            raise ValueError("PIB_SECRET_KEY must be set in production (signed links depend on it)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("PIB_CONFIG_FILE")
        if config_file:
            if not Path(config_file).is_file():
                raise FileNotFoundError(f"PIB_CONFIG_FILE names {config_file!r}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once; tests call `get_settings.cache_clear()` after changing them."""
    return Settings()
