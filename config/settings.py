"""The one settings object of the service: `PIB_*` environment variables, then an optional TOML file.

Defaults need no set-up: an SQLite file under `var/`, an outbox folder of `.eml` files, the real source
endpoints (overridden by the tests and `pib demo` to point at the local replay server).

The secret key signs the one-click links of the emails: whoever knows it can act for any user. Production
refuses a missing, short or published one; development draws a random one on first use and keeps it in
`var/secret_key` (relative to the working directory, like the default database and outbox, wherever the
database is); the `test` environment uses a fixed key, which production refuses as published.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import string
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

TEST_SECRET = "pib-test-environment-only-never-in-production-8f3Kq2Zx"
"""The key of the `test` environment: published here, so production refuses it."""
SECRET_BITS = 256
"""What production asks of `PIB_SECRET_KEY`: 32 random bytes, e.g. `secrets.token_urlsafe(32)`."""
_GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
_PUBLISHED_SECRETS = {
    hashlib.sha256(TEST_SECRET.encode()).hexdigest(),
    # the development key of earlier versions, published in their source
    "55ad5b14aa13141c19e6e07e71140099e3b81be3ea30390682ed6d31690ca609",
}


_LOWER, _UPPER = set(string.ascii_lowercase), set(string.ascii_uppercase)
_HEX_LOWER, _HEX_UPPER = set(string.digits + "abcdef"), set(string.digits + "ABCDEF")
_BASE64 = set(string.ascii_letters + string.digits + "-_+/=")
_CLASSES = (_LOWER, _UPPER, set(string.digits), set(string.punctuation + " "))
_ASCII = set().union(*_CLASSES)


class SettingsError(ValueError):
    """Settings the service cannot run with; the message is one line naming the variable."""


def secret_strength(secret: str) -> float:
    """Estimated bits of a secret: its length × log2 of the alphabet its characters seem drawn from.

    Generous to random strings (hex, base64, printable), strict with what is visibly not random: fewer
    than 12 distinct characters count for nothing.

    >>> secret_strength("a" * 64)
    0.0
    >>> secret_strength("0123456789abcdef" * 4)
    256.0
    >>> round(secret_strength("development-only-secret-change-me"))
    194
    """
    distinct = set(secret)
    if len(distinct) < 12:
        return 0.0
    if distinct <= _HEX_LOWER or distinct <= _HEX_UPPER:
        alphabet = 16
    elif distinct <= _BASE64 and distinct & _LOWER and distinct & _UPPER:
        alphabet = 64
    else:
        alphabet = sum(len(chars) for chars in _CLASSES if distinct & chars)
        alphabet += 128 if distinct - _ASCII else 0
    return len(secret) * math.log2(alphabet)


def production_secret_problem(secret: str) -> str | None:
    """Why `secret` must not sign production links, or None: missing, too weak, or published."""
    if not secret:
        return "is not set"
    if hashlib.sha256(secret.encode()).hexdigest() in _PUBLISHED_SECRETS:
        return "is a published value (of the test or development environment)"
    bits = secret_strength(secret)
    if bits < SECRET_BITS:
        return f"is too weak (about {bits:.0f} bits, {SECRET_BITS} needed: 32 random bytes)"
    return None


def _read_secret(path: Path) -> str:
    secret = path.read_text(encoding="utf-8").strip()
    if secret_strength(secret) < SECRET_BITS:
        raise ValueError(f"the development secret in {path} is empty or damaged: delete the file to draw a new one")
    return secret


def development_secret(path: Path) -> str:
    """The development key kept in `path`, drawn at random the first time.

    Written whole to a private temporary file, then hard-linked into place: the link fails if another
    process got there first, and both then read the same complete key.
    """
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ValueError(f"cannot read the development secret {path}: {error.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(secrets.token_urlsafe(32) + "\n")
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(FileExistsError):  # another process drew it first: its key is the one
                os.link(temporary, path)
        finally:
            temporary.unlink()
        return _read_secret(path)
    except OSError as error:
        raise ValueError(f"cannot keep the development secret in {path}: {error.strerror}") from None


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
    secret_key: SecretStr = SecretStr("")
    """Signs the emails' links. Production: required, 32 random bytes; development: `secret_key_file`."""
    secret_key_file: Path = Path("var/secret_key")
    """Where development keeps its random key (mode 0600), made on first use."""

    # Sources (docs/settings.md): base URLs are settings so spiders run against the local replay server.
    ted_api_url: str = "https://api.ted.europa.eu"
    ted_countries: Annotated[list[str], NoDecode] = ["BEL", "FRA"]
    """Buyer countries of the TED search, alpha-3: `PIB_TED_COUNTRIES=BEL,FRA` or a JSON list."""
    boamp_api_url: str = "https://boamp-datadila.opendatasoft.com"
    be_api_url: str = "https://www.publicprocurement.be"
    decp_api_url: str = "https://data.economie.gouv.fr"
    """DECP, the contracts French buyers awarded (Ministry of the Economy, opendatasoft API v2.1)."""
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
    cpv_retrain_min_new: int = Field(default=2_000, ge=1)
    """The CPV classifier is retrained (job `cpv-retrain`) once the store holds at least this many more coded
    notices than the active model saw (TED alone brings about 2,400 a working day)."""

    @field_validator("ted_countries", mode="before")
    @classmethod
    def _split_countries(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [part.strip().upper() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _resolve_secret_key(self) -> Settings:
        """Production refuses a bad key; development and tests get theirs when none is given."""
        secret = self.secret_key.get_secret_value().strip()
        if self.environment == "production":
            problem = production_secret_problem(secret)
            if problem:
                raise ValueError(f"PIB_SECRET_KEY {problem}; production needs a random one, made with: {_GENERATE}")
        elif not secret:
            secret = TEST_SECRET if self.environment == "test" else development_secret(self.secret_key_file)
        self.secret_key = SecretStr(secret)
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


def _one_line(error: ValidationError) -> str:
    """What is wrong, by variable, without the values (a secret must not reach a log)."""
    parts = []
    for detail in error.errors(include_url=False, include_input=False):
        message = detail["msg"].removeprefix("Value error, ")
        where = "PIB_" + str(detail["loc"][0]).upper() if detail["loc"] else ""
        parts.append(message if not where or where in message else f"{where}: {message}")
    return "; ".join(parts)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once; tests call `get_settings.cache_clear()` after changing them.

    A setting the service cannot run with is a `SettingsError` of one line (the CLI prints it as it is).
    """
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(f"settings: {_one_line(error)}") from None
    except FileNotFoundError as error:
        raise SettingsError(f"settings: {error}") from None
