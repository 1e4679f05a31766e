"""Issue 22, item 9, the API half: ``/api/v1/gaps`` and ``/api/v1/status`` gave every
reader of recordings ffmpeg's own stderr. Now ``reason`` and ``last_error`` are a plain
reason for everyone; the raw text comes only under ``reason_raw`` / ``last_error_raw``,
to those holding ``recordings.diagnostics`` (admins and operators)."""

from __future__ import annotations

from pathlib import Path

from oversight.domain.plain_reasons import REASONS
from tests.web.api_data import sealed_camera
from tests.web.conftest import ROOT, Web
from tests.web.test_console_plain_reasons import RAW, broken_camera

PLAIN = "unreachable"


def test_readers_without_diagnostics_get_only_the_plain_reason(web: Web, tmp_path: Path) -> None:
    broken_camera(web, tmp_path)
    for user in ("cust", "aud"):
        api = web.api(user)
        gaps = api.get("/api/v1/gaps", params={"camera": "cam1"})
        status = api.get("/api/v1/status")
        assert gaps.status_code == 200 and status.status_code == 200, (user, gaps.text)
        for reply in (gaps, status):
            assert "Connection refused" not in reply.text and "ffmpeg" not in reply.text, user
        [gap] = gaps.json()
        assert (gap["reason"], gap["reason_raw"]) == (PLAIN, None), user
        [cam] = status.json()
        assert (cam["last_error"], cam["last_error_raw"]) == (PLAIN, None), user


def test_admins_and_operators_also_get_ffmpegs_words_under_raw_keys(
    web: Web, tmp_path: Path
) -> None:
    broken_camera(web, tmp_path)
    for user in ("boss", "op"):
        api = web.api(user)
        [gap] = api.get("/api/v1/gaps", params={"camera": "cam1"}).json()
        assert gap["reason"] == PLAIN
        assert gap["reason_raw"] == RAW + " (3 restart attempts)", user
        [cam] = api.get("/api/v1/status").json()
        assert (cam["last_error"], cam["last_error_raw"]) == (PLAIN, RAW), user


def test_a_camera_without_an_error_has_no_reason_at_all(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    [cam] = web.api("boss").get("/api/v1/status").json()
    assert (cam["last_error"], cam["last_error_raw"]) == (None, None)


def test_the_openapi_schema_names_the_plain_reasons_and_the_raw_keys(web: Web) -> None:
    schema = web.console("boss").get("/api/openapi.json").json()
    models = schema["components"]["schemas"]
    gap, status = models["GapOut"]["properties"], models["StatusOut"]["properties"]
    assert gap["reason"]["enum"] == list(REASONS)
    assert "recordings.diagnostics" in gap["reason_raw"]["description"]
    assert "recordings.diagnostics" in status["last_error_raw"]["description"]
    paths = schema["paths"]
    for path, model in (("/api/v1/gaps", "GapOut"), ("/api/v1/status", "StatusOut")):
        items = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert items["items"]["$ref"].endswith(f"/{model}"), path


def test_docs_api_explains_every_plain_reason() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [key for key in REASONS if f"| `{key}` |" not in text]
    assert missing == [], f"docs/api.md does not explain: {missing}"
