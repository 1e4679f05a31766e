"""``oversight rules``: show, list and validate through the CLI (no database needed)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from oversight.cli.main import app
from oversight.rules.loader import load_builtin


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("OVERSIGHT_RULE_PACKS", raising=False)
    monkeypatch.delenv("OVERSIGHT_DATABASE_URL", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def builtin_text(pack_id: str) -> str:
    return resources.files("oversight.rules.packs").joinpath(f"{pack_id}.yaml").read_text("utf-8")


def write(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- show ----


def test_show_json_default_pack() -> None:
    result = run("rules", "show", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pack"]["id"] == "xj-2014"
    assert data["pack"]["effective"] == "2014-07-01"
    assert data["placements"]["public_toilet"]["cite"] == "Art. 8(2)"


def test_show_json_every_configured_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_RULE_PACKS", "xj-2014, cn-2025")
    result = run("rules", "show", "--json")
    assert result.exit_code == 0, result.output
    assert [p["pack"]["id"] for p in json.loads(result.stdout)] == ["xj-2014", "cn-2025"]


def test_show_json_named_pack_round_trips() -> None:
    result = run("rules", "show", "--pack", "cn-2025", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == load_builtin("cn-2025").model_dump(mode="json")


def test_show_text_cn() -> None:
    result = run("rules", "show", "--pack", "cn-2025")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in [
        "cn-2025",
        "公共安全视频图像信息系统管理条例",
        "2025-04-01",
        "Asia/Shanghai",
        "Art. 8",
        "restaurant_private_room",
        "PROHIBITED",
        "filing_commissioning",
        "Art. 14",
        "art27",
        "CNY 10,000-20,000",
        "Art. 20",
    ]:
        assert expected in out, expected


def test_show_text_sections() -> None:
    result = run("rules", "show", "--pack", "xj-2014")
    assert result.exit_code == 0, result.output
    out = result.stdout
    sections = [
        "Site categories",
        "Placements",
        "Filing deadlines",
        "Retention classes",
        "Access",
        "Penalties",
        "Rules",
    ]
    positions = [out.index(s) for s in sections]
    assert positions == sorted(positions)
    for expected in ["CNY 200-1,000", "up to CNY 30,000", "own_agency_head", "731"]:
        assert expected in out, expected


def test_show_unknown_pack() -> None:
    result = run("rules", "show", "--pack", "xx-1999")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown rule pack 'xx-1999'")
    assert result.stdout == ""


def test_show_bad_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_RULE_PACKS", " , ")
    result = run("rules", "show")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid setting OVERSIGHT_RULE_PACKS")


# ---- list ----


def test_list_json() -> None:
    result = run("rules", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert {"xj-2014", "cn-2025"} <= set(rows)
    assert rows["xj-2014"]["effective"] == "2014-07-01"
    assert rows["cn-2025"]["title"]["zh"] == "公共安全视频图像信息系统管理条例"
    # Both have been in force since 2025-04-01 and neither is repealed.
    assert rows["xj-2014"]["in_force"] is True
    assert rows["cn-2025"]["in_force"] is True


def test_list_text() -> None:
    result = run("rules", "list")
    assert result.exit_code == 0, result.output
    assert "xj-2014" in result.stdout and "cn-2025" in result.stdout


# ---- validate ----


@pytest.mark.parametrize("pack_id", ["xj-2014", "cn-2025"])
def test_validate_copy_of_builtin(tmp_path: Path, pack_id: str) -> None:
    path = write(tmp_path, builtin_text(pack_id))
    result = run("rules", "validate", str(path))
    assert result.exit_code == 0, result.output
    rules = len(load_builtin(pack_id).rules)
    assert result.stdout.strip() == f"ok: {pack_id} ({rules} rules)"
    assert result.stderr == ""


def test_validate_warns_about_uncovered_articles(tmp_path: Path) -> None:
    text = builtin_text("xj-2014").replace("  articles: 23\n", "  articles: 25\n")
    result = run("rules", "validate", str(write(tmp_path, text)))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: xj-2014")
    assert result.stderr.startswith("warning: xj-2014:")
    assert result.stderr.rstrip().endswith("24, 25")


def test_validate_reports_every_problem(tmp_path: Path) -> None:
    pack = load_builtin("xj-2014")
    index = [r.id for r in pack.rules].index("filing_commissioning")
    text = builtin_text("xj-2014")
    text = text.replace(
        "      days: 30\n      legacy_days: 60\n", "      days: soon\n      legacy_days: 60\n"
    )
    text = text.replace("  timezone: Asia/Shanghai", "  timezone: Asia/Atlantis")
    result = run("rules", "validate", str(write(tmp_path, text)))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    days = [ln for ln in lines if ln.startswith(f"rules[{index}].params.days (line ")]
    zone = [ln for ln in lines if ln.startswith("pack.timezone (line ")]
    assert len(days) == 1 and len(zone) == 1, result.stderr
    assert lines[-1] == f"error: {tmp_path / 'custom.yaml'}: 2 errors"


def test_validate_one_reference_problem(tmp_path: Path) -> None:
    text = builtin_text("xj-2014").replace("    penalty: art18\n", "    penalty: art99\n")
    result = run("rules", "validate", str(write(tmp_path, text)))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'custom.yaml'}: 1 error: rules[")
    assert ".penalty (line " in line and "unknown penalty 'art99'" in line


def test_validate_malformed_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "schema_version: 1\npack: {id: [unclosed\n")
    result = run("rules", "validate", str(path))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {path}: line ")


def test_validate_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    result = run("rules", "validate", str(path))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot read {path}")
    assert result.stdout == ""


def test_validate_not_a_mapping(tmp_path: Path) -> None:
    result = run("rules", "validate", str(write(tmp_path, "- just\n- a list\n")))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.endswith("a rule pack is a YAML mapping")
