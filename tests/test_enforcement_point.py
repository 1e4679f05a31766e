"""Nothing in the package reads footage outside the enforcement point (Art. 17).

Walks every module of ``src/oversight`` with ``ast`` and fails on any call that opens
stored footage — ``<...>store.open(...)``, ``<...>store.path(...)`` (a local store's
file), a ``getattr`` of either on a store, or any use of ``store_dir`` — outside the
modules allowed to: the enforcement point, the recorder's sealing, the storage
backends, integrity verification (hashes only) and the evidence writer (reads only
the paths handed to it). Retention and the purge delete through the Store protocol and
read nothing, so they are not on the list.
"""

from __future__ import annotations

import ast
from pathlib import Path

import oversight

ROOT = Path(oversight.__file__).parent
ALLOWED = {
    "services/footage.py",  # the enforcement point
    "services/sealing.py",  # the sealer: writes new segments into the store
    "recorder/sealer.py",  # the recorder's spool and sealer
    "services/verify.py",  # hashes stored objects, serves nothing
    "services/filemodes.py",  # stats the store's files for their modes, reads none
    "config.py",  # defines store_dir
    "bootstrap.py",  # builds the store from store_dir
}
ALLOWED_DIRS = ("storage/", "evidence/")
READS = {"open", "path"}


def _is_store(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return isinstance(name, str) and (name == "store" or name.endswith("_store"))


def offences(source: str) -> list[str]:
    """Lines of ``source`` that open stored footage."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "store_dir":
            found.append(f"{node.lineno}: store_dir")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in READS and _is_store(func.value):
            found.append(f"{node.lineno}: store.{func.attr}()")
        if (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and len(node.args) >= 2
            and _is_store(node.args[0])
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in READS
        ):
            found.append(f"{node.lineno}: getattr(store, {node.args[1].value!r})")
    return found


def test_only_the_allowed_modules_open_stored_footage() -> None:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED or rel.startswith(ALLOWED_DIRS):
            continue
        bad += [f"{rel}:{line}" for line in offences(path.read_text(encoding="utf-8"))]
    assert bad == [], "footage opened outside the enforcement point:\n" + "\n".join(bad)


def test_the_walker_sees_the_enforcement_point_and_offenders() -> None:
    assert offences((ROOT / "services/footage.py").read_text(encoding="utf-8"))
    sneaky = (
        "def leak(system, key):\n"
        "    with system.store.open(key) as f:\n"
        "        return f.read()\n"
        "def leak2(system, key):\n"
        "    return open(system.store.path(key), 'rb')\n"
        "def leak3(system):\n"
        "    return system.settings.store_dir / 'cam1'\n"
        "def leak4(system):\n"
        "    return getattr(system.store, 'path')\n"
    )
    assert sorted(offences(sneaky)) == [
        "2: store.open()",
        "5: store.path()",
        "7: store_dir",
        "9: getattr(store, 'path')",
    ]
