"""Load rule packs from YAML and report every error with its YAML path and line."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from oversight.errors import RulePackError
from oversight.rules.schema import RULE_KINDS, PackReferenceError, RulePack

_PACKAGE = "oversight.rules.packs"
# libyaml when available: packs are parsed on every command.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def builtin_pack_ids() -> list[str]:
    """Ids of the packs shipped with Oversight (file name without ``.yaml``)."""
    root = resources.files(_PACKAGE)
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))


@functools.cache
def load_builtin(pack_id: str) -> RulePack:
    """A shipped pack; cached, since packs are immutable (frozen models)."""
    if pack_id not in builtin_pack_ids():
        known = ", ".join(builtin_pack_ids())
        raise RulePackError(f"unknown rule pack {pack_id!r} (known: {known})")
    text = resources.files(_PACKAGE).joinpath(f"{pack_id}.yaml").read_text(encoding="utf-8")
    pack = parse_pack(text, source=f"{pack_id}.yaml")
    if pack.pack.id != pack_id:
        raise RulePackError(f"{pack_id}.yaml: pack.id is {pack.pack.id!r}, not {pack_id!r}")
    return pack


def load_packs(pack_ids: list[str]) -> list[RulePack]:
    """The packs a deployment applies together, in the order given (earlier wins ties)."""
    if len(set(pack_ids)) != len(pack_ids):
        raise RulePackError(f"rule pack listed twice in {','.join(pack_ids)!r}")
    return [load_builtin(pid) for pid in pack_ids]


# The shipped packs are about 35 KB; Settings.rule_pack_max_bytes has the same default.
DEFAULT_MAX_PACK_BYTES = 1 << 20


def load_pack_file(path: Path, *, max_bytes: int = DEFAULT_MAX_PACK_BYTES) -> RulePack:
    """A custom pack file of at most ``max_bytes`` bytes (read no further than that)."""
    try:
        with path.open("rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise RulePackError(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > max_bytes:
        raise RulePackError(
            f"{path}: the file is larger than {max_bytes} bytes (OVERSIGHT_RULE_PACK_MAX_BYTES)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulePackError(f"{path}: not UTF-8 text") from exc
    return parse_pack(text, source=str(path))


def parse_pack(text: str, *, source: str) -> RulePack:
    try:
        _refuse_anchors(text, source)
        node, data = _compose_and_construct(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise RulePackError(
            f"{source}:{where}: {problem}", [f"{where.strip()}: {problem}"]
        ) from exc
    if not isinstance(data, dict):
        raise RulePackError(f"{source}: a rule pack is a YAML mapping", ["<root>: not a mapping"])
    duplicates = _duplicate_keys(node)
    if duplicates:
        raise RulePackError(f"{source}: {duplicates[0]}", duplicates)
    try:
        return RulePack.model_validate(data)
    except ValidationError as exc:
        problems = [line for err in exc.errors() for line in _describe_all(err, node)]
        noun = "error" if len(problems) == 1 else "errors"
        raise RulePackError(
            f"{source}: {len(problems)} {noun}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems,
        ) from exc


_NO_ANCHORS = "YAML anchors and aliases are not allowed in a rule pack"


def _refuse_anchors(text: str, source: str) -> None:
    """Aliases let a few lines expand to billions of nodes (a "billion laughs"), which
    every later walk (duplicate keys, validation) would pay for: a pack spells each
    entry out instead. Checked on the token stream, before anything is composed."""
    loader = _Loader(text)
    try:
        while loader.check_token():
            token = loader.get_token()
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                line = token.start_mark.line + 1
                raise RulePackError(
                    f"{source}: line {line}: {_NO_ANCHORS}", [f"line {line}: {_NO_ANCHORS}"]
                )
    finally:
        loader.dispose()


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers and duplicate keys) and the data."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


def _describe_all(err: Any, root: yaml.Node | None) -> list[str]:
    # Cross-reference checks run on the whole pack and locate each problem themselves.
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, PackReferenceError):
        base = list(err["loc"])
        return [_located(base + list(loc), message, root) for loc, message in cause.problems]
    return [_describe(err, root)]


def _describe(err: Any, root: yaml.Node | None) -> str:
    return _located(list(err["loc"]), err["msg"], root)


def _located(raw_loc: list[Any], message: str, root: yaml.Node | None) -> str:
    loc = _yaml_loc(raw_loc)
    line = _line_of(root, loc)
    path = _format_path(loc)
    return f"{path} (line {line}): {message}" if line else f"{path}: {message}"


def _duplicate_keys(node: yaml.Node | None, path: str = "") -> list[str]:
    """PyYAML keeps the last of two equal keys silently; a pack must not lose an entry."""
    out: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            here = f"{path}.{name}" if path else name
            if name in seen:
                out.append(f"{here} (line {key.start_mark.line + 1}): duplicate key {name!r}")
            seen.add(name)
            out += _duplicate_keys(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out += _duplicate_keys(item, f"{path}[{i}]")
    return out


def _yaml_loc(loc: list[Any]) -> list[Any]:
    # pydantic puts the discriminator tag after a rule's index ("rules", 3, "filing_deadline",
    # "params"); the tag is not a YAML key, so drop it.
    if len(loc) > 2 and loc[0] == "rules" and loc[2] in RULE_KINDS:
        return loc[:2] + loc[3:]
    return loc


def _format_path(loc: list[Any]) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "<root>"


def _line_of(root: yaml.Node | None, loc: list[Any]) -> int | None:
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step] if step < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
