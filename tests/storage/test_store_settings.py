"""Choosing the store from settings: local by default, S3 from OVERSIGHT_STORE=s3://...

bootstrap builds what the settings name; `oversight init` works with either; the S3
secret never shows in settings, errors or logs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from oversight import bootstrap
from oversight.cli.main import app
from oversight.config import Settings
from oversight.errors import ConfigError
from oversight.storage.local import LocalStore
from oversight.storage.s3 import S3Store
from tests.storage.seaweed import SeaweedS3

_STORE_VARS = (
    "OVERSIGHT_DATABASE_URL",
    "OVERSIGHT_RULE_PACKS",
    "OVERSIGHT_STORE",
    "OVERSIGHT_S3_ENDPOINT_URL",
    "OVERSIGHT_S3_REGION",
    "OVERSIGHT_S3_ACCESS_KEY_ID",
    "OVERSIGHT_S3_SECRET_ACCESS_KEY",
    "OVERSIGHT_S3_DEFAULT_RETENTION_DAYS",
)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Embedded SQLite in a fresh data dir, and no store settings from the caller."""
    for name in _STORE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def _use_s3(monkeypatch: pytest.MonkeyPatch, seaweed: SeaweedS3, store: str) -> None:
    monkeypatch.setenv("OVERSIGHT_STORE", store)
    monkeypatch.setenv("OVERSIGHT_S3_ENDPOINT_URL", seaweed.endpoint_url)
    monkeypatch.setenv("OVERSIGHT_S3_ACCESS_KEY_ID", seaweed.access_key_id)
    monkeypatch.setenv("OVERSIGHT_S3_SECRET_ACCESS_KEY", seaweed.secret_access_key)


def _init() -> str:
    result = CliRunner().invoke(app, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("value", "location"),
    [
        (None, None),
        ("", None),
        ("s3://footage", ("footage", "")),
        ("s3://footage/", ("footage", "")),
        ("s3://footage.site-1/oversight/prod/", ("footage.site-1", "oversight/prod")),
    ],
)
def test_the_store_url_names_a_bucket_and_prefix(
    value: str | None, location: tuple[str, str] | None
) -> None:
    assert Settings(store=value).s3_location == location


@pytest.mark.parametrize(
    "value",
    ["file:///srv/store", "s3://", "s3://UPPER/x", "s3://ab", "s3://b/a//c", "s3://b/../x", "x"],
)
def test_other_store_urls_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="s3://bucket/prefix"):
        Settings(store=value)


def test_the_secret_never_shows_in_settings() -> None:
    settings = Settings(s3_secret_access_key="very-secret-key")
    assert "very-secret-key" not in repr(settings)
    assert "very-secret-key" not in str(settings.model_dump())


def test_init_and_build_use_the_local_store_by_default(data_dir: Path) -> None:
    _init()
    system = bootstrap.build(Settings())
    try:
        assert isinstance(system.store, LocalStore)
        assert system.store.root == data_dir / "store"
    finally:
        system.close()


@pytest.mark.s3
def test_bootstrap_builds_the_s3_store_the_settings_name(
    data_dir: Path,
    seaweed: SeaweedS3,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    _use_s3(monkeypatch, seaweed, f"s3://{bucket}/site-1/")
    monkeypatch.setenv("OVERSIGHT_S3_DEFAULT_RETENTION_DAYS", "30")
    assert "up to date" not in _init()
    system = bootstrap.build(Settings())
    try:
        store = system.store
        assert isinstance(store, S3Store)
        assert (store.bucket, store.prefix) == (bucket, "site-1/")
        source = tmp_path / "a.mp4"
        source.write_bytes(b"footage")
        store.put("cam1/a.mp4", source)
        assert [o.key for o in store.objects()] == ["cam1/a.mp4"]
        assert store.retention("cam1/a.mp4") is not None
    finally:
        system.close()
    assert seaweed.secret_access_key not in caplog.text


@pytest.mark.s3
def test_a_missing_bucket_stops_the_build_with_a_config_error(
    data_dir: Path, seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_s3(monkeypatch, seaweed, "s3://no-such-bucket/x")
    with pytest.raises(ConfigError, match=r"no-such-bucket.*does not exist") as failed:
        bootstrap.build(Settings(), require_schema=False)
    assert seaweed.secret_access_key not in str(failed.value)
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert seaweed.secret_access_key not in result.output
