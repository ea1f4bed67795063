"""The settings: environment variables, a TOML file, and what production refuses."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import SECRET_BITS, TEST_SECRET, Settings, SettingsError, get_settings, secret_strength


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads the settings afresh, and leaves none cached for the next."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults_need_no_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PIB_DATABASE_URL", "PIB_CONFIG_FILE", "PIB_TED_COUNTRIES", "PIB_FEEDS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.email_backend == "outbox"
    assert settings.ted_countries == ["BEL", "FRA"]


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIB_TED_COUNTRIES", "bel, fra,LUX")
    monkeypatch.setenv("PIB_FEEDS", '[{"name": "wallonie", "url": "https://example.org/rss"}]')
    monkeypatch.setenv("PIB_BOAMP_API_URL", "http://127.0.0.1:9999")
    settings = Settings()
    assert settings.ted_countries == ["BEL", "FRA", "LUX"]
    assert [(feed.name, feed.url) for feed in settings.feeds] == [("wallonie", "https://example.org/rss")]
    assert settings.boamp_api_url == "http://127.0.0.1:9999"
    monkeypatch.setenv("PIB_TED_COUNTRIES", '["BEL"]')
    assert Settings().ted_countries == ["BEL"]


def test_toml_file_with_feed_tables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "pib.toml"
    config.write_text(
        'database_url = "sqlite:///x.sqlite"\n\n[[feeds]]\nname = "hainaut"\nurl = "https://example.org/feed"\n'
    )
    monkeypatch.setenv("PIB_CONFIG_FILE", str(config))
    monkeypatch.delenv("PIB_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///x.sqlite"
    assert settings.feeds[0].name == "hainaut"
    monkeypatch.setenv("PIB_DATABASE_URL", "sqlite:///env-wins.sqlite")
    assert Settings().database_url == "sqlite:///env-wins.sqlite"


def test_a_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIB_CONFIG_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(FileNotFoundError, match=r"absent\.toml"):
        Settings()


PRODUCTION_ERROR = "production needs a random one"


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("x", "too weak"),
        ("a-real-secret-of-the-cluster", "too weak"),
        ("É" * 64, "too weak"),
        (secrets.token_urlsafe(24), "too weak"),  # 24 random bytes: 192 bits
        (TEST_SECRET, "published"),
        ("development-only-secret-change-me", "published"),  # the development key of earlier versions
    ],
)
def test_production_refuses_a_missing_weak_or_published_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None, says: str
) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "production")
    if secret is None:
        monkeypatch.delenv("PIB_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("PIB_SECRET_KEY", secret)
    get_settings.cache_clear()
    with pytest.raises(SettingsError) as error:
        get_settings()
    message = str(error.value)
    assert "PIB_SECRET_KEY" in message and says in message and PRODUCTION_ERROR in message
    assert "\n" not in message and (not secret or secret not in message)


@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), secrets.token_hex(32), f"  {secrets.token_hex(32)}\n"])
def test_production_takes_a_random_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret: str) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "production")
    monkeypatch.setenv("PIB_SECRET_KEY", secret)
    monkeypatch.setenv("PIB_SECRET_KEY_FILE", str(tmp_path / "var" / "secret_key"))
    assert Settings().secret_key.get_secret_value() == secret.strip()
    assert not (tmp_path / "var").exists()  # production never draws a key of its own


def test_a_random_key_is_always_strong_enough() -> None:
    """What the error message tells to run always passes (and so does what development draws)."""
    assert min(secret_strength(secrets.token_urlsafe(32)) for _ in range(5_000)) >= SECRET_BITS
    assert min(secret_strength(secrets.token_hex(32)) for _ in range(5_000)) >= SECRET_BITS


@pytest.mark.parametrize("command", [["stats"], ["serve"], ["members", "export"]])
def test_the_cli_says_a_bad_production_secret_in_one_line(tmp_path: Path, command: list[str]) -> None:
    environment = {
        **os.environ,
        "PIB_ENVIRONMENT": "production",
        "PIB_SECRET_KEY": "École",
        "PIB_DATABASE_URL": f"sqlite:///{tmp_path / 'pib.sqlite'}",
    }
    completed = subprocess.run(
        [sys.executable, "-c", "from pib.cli import app; app(prog_name='pib')", *command],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    (line,) = completed.stderr.splitlines()
    assert line.startswith("pib: settings: PIB_SECRET_KEY is too weak") and "secrets.token_urlsafe(32)" in line
    assert "École" not in line
    assert list(tmp_path.iterdir()) == []  # refused before anything was made


def test_development_draws_a_private_key_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "development")
    monkeypatch.delenv("PIB_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    key = Settings().secret_key.get_secret_value()
    path = tmp_path / "var" / "secret_key"
    assert path.read_text().strip() == key and secret_strength(key) >= SECRET_BITS
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings().secret_key.get_secret_value() == key  # kept: the links already sent stay valid
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    path.unlink()
    assert Settings().secret_key.get_secret_value() != key  # a fresh draw, not a value of the source


def test_development_takes_a_given_key_and_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "development")
    monkeypatch.setenv("PIB_SECRET_KEY", "a developer's own key")
    monkeypatch.setenv("PIB_SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    assert Settings().secret_key.get_secret_value() == "a developer's own key"
    assert not (tmp_path / "secret_key").exists()


def test_a_damaged_development_key_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "development")
    monkeypatch.delenv("PIB_SECRET_KEY", raising=False)
    path = tmp_path / "clé" / "secret_key"
    path.parent.mkdir()
    path.write_text("\n")
    monkeypatch.setenv("PIB_SECRET_KEY_FILE", str(path))
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match=rf"{path}.*delete the file to draw a new one"):
        get_settings()


RACER = """
import os, sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
from config.settings import Settings
print(Settings().secret_key.get_secret_value())
"""


def test_two_processes_starting_at_once_agree_on_the_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    environment = {**os.environ, "PIB_ENVIRONMENT": "development", "PIB_SECRET_KEY_FILE": str(path)}
    environment.pop("PIB_SECRET_KEY", None)
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(go)], env=environment, stdout=subprocess.PIPE, text=True, cwd=tmp_path
        )
        for _ in range(6)
    ]
    time.sleep(1.5)  # every racer imported the settings module and waits for the start
    go.touch()
    keys = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert all(racer.returncode == 0 for racer in racers)
    assert keys == {path.read_text().strip()}
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]


def test_tests_use_the_fixed_test_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "test")
    monkeypatch.delenv("PIB_SECRET_KEY", raising=False)
    monkeypatch.setenv("PIB_SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    assert Settings().secret_key.get_secret_value() == TEST_SECRET
    assert not (tmp_path / "secret_key").exists()


def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIB_WEB_PORT", "huit-mille")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match=r"^settings: PIB_WEB_PORT: Input should be a valid integer[^\n]*$"):
        get_settings()
