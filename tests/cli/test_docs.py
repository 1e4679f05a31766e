"""docs/cli.md is generated from the commands; it must match them."""

from __future__ import annotations

from pathlib import Path

from oversight.cli import docs

DOC = Path(__file__).parents[2] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == docs.render(), "docs/cli.md is stale: run `make docs`"


def test_every_command_has_help() -> None:
    text = docs.render()
    blocks = text.split("\n### ")[1:]
    assert blocks, "no commands rendered"
    for block in blocks:
        name, _, rest = block.partition("\n\n")
        assert not rest.startswith("```"), f"command {name!r} has no help text"
