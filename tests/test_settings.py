"""The settings: environment variables, a TOML file, and what production refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings


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


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIB_ENVIRONMENT", "production")
    monkeypatch.delenv("PIB_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="PIB_SECRET_KEY"):
        Settings()
    monkeypatch.setenv("PIB_SECRET_KEY", "a-real-secret-of-the-cluster")
    assert Settings().environment == "production"
