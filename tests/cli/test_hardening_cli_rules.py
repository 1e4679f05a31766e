"""Finding 18 of the security review (issue 18): `rules validate` on a pack built to
amplify (YAML anchors and aliases, a "billion laughs") or an oversized pack file is
refused at once with a one-line error and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oversight.errors import RulePackError
from oversight.rules.loader import load_pack_file, parse_pack
from tests.rules.test_loader import GOOD


def _laughs(depth: int = 9, width: int = 10) -> str:
    """A valid-looking pack whose ``pack.title`` expands to ``width ** depth`` leaves."""
    lines = ["schema_version: 1", "lol0: &l0 lol"]
    for i in range(1, depth + 1):
        lines.append(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    lines += ["pack:", f"  title: *l{depth}"]
    return "\n".join(lines) + "\n"


def _validate(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process: a hang is a failure, not a stuck suite."""
    return subprocess.run(
        [sys.executable, "-m", "oversight.cli.main", "rules", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, **env},
        check=False,
    )


def test_a_billion_laughs_pack_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(_laughs(), encoding="utf-8")
    result = _validate(path)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line == (
        f"error: {path}: line 2: YAML anchors and aliases are not allowed in a rule pack"
    )
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("schema_version: 1\npack: &p {}\n", 2),  # an anchor alone
        ("a: 1\nb:\n  - x\n  - *nowhere\n", 4),  # an alias alone (not even defined)
        ("base: &b {x: 1}\nother:\n  <<: *b\n", 1),  # a merge key needs an alias too
    ],
)
def test_anchors_and_aliases_are_refused_naming_the_line(text: str, line: int) -> None:
    with pytest.raises(RulePackError) as caught:
        parse_pack(text, source="custom.yaml")
    assert str(caught.value) == (
        f"custom.yaml: line {line}: YAML anchors and aliases are not allowed in a rule pack"
    )


def test_an_oversized_pack_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "#" * 2000 + "\n", encoding="utf-8")
    with pytest.raises(RulePackError, match=r"larger than 1000 bytes"):
        load_pack_file(path, max_bytes=1000)
    assert load_pack_file(path, max_bytes=len(path.read_bytes())).pack.id == "test-pack"
    result = _validate(path, OVERSIGHT_RULE_PACK_MAX_BYTES="1000")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {path}: the file is larger than 1000 bytes (OVERSIGHT_RULE_PACK_MAX_BYTES)\n"
    )


def test_the_shipped_packs_and_a_plain_custom_pack_still_load(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = _validate(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: test-pack")
