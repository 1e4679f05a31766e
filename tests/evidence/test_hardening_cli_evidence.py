"""Finding 9 of the security review (issue 18): a package forged with another key (a
clip swapped, the purpose changed, the manifest, checkpoint and every proof re-signed)
is internally consistent, so only a key the recipient trusts can tell it from the real
one. Without one, `evidence verify` says "signature valid, origin key not trusted" and
exits 3; with one (`--key`, `--trusted-keys FILE`, OVERSIGHT_TRUSTED_KEYS_FILE) the
forgery fails (exit 1) and the genuine package passes (exit 0)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.evidence import manifest as mf
from oversight.evidence.readme import render_readme
from oversight.evidence.verify import key_fingerprint, verify_package
from oversight.ledger import note
from tests.conftest import Env
from tests.evidence.test_package import export, vkey
from tests.recorder.helpers import needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]

FORGED_PURPOSE = "released to the press"


def _forge(out: Path, system: bootstrap.System) -> str:
    """Swap the first clip for other footage, change the purpose, and re-sign everything
    with a new key of the same log name; returns the forger's verifier key."""
    origin = system.ledger.origin
    skey, forged = note.generate_signer(origin)
    signer = note.parse_signer(skey)
    old_cp = (out / mf.CHECKPOINT).read_text()
    cp, _ = note.open_checkpoint(old_cp, [note.parse_verifier(vkey(system))], origin=origin)
    new_cp = note.sign_checkpoint(cp, [signer])
    (out / mf.CHECKPOINT).write_text(new_cp)
    for proof in (out / mf.PROOFS_DIR).iterdir():
        proof.write_text(proof.read_text().replace(old_cp, new_cp))

    data = json.loads((out / mf.MANIFEST).read_bytes())
    first, second = data["clips"][0], data["clips"][1]
    swapped = (out / second["file"]).read_bytes()
    (out / first["file"]).write_bytes(swapped)
    first["sha256"], first["bytes"] = hashlib.sha256(swapped).hexdigest(), len(swapped)
    data["purpose"] = FORGED_PURPOSE
    data["ledger"]["verifier_key"] = forged
    readme = render_readme(mf.load(mf.canonical(data))).encode()
    (out / mf.README).write_bytes(readme)
    data["readme"]["sha256"], data["readme"]["bytes"] = (
        hashlib.sha256(readme).hexdigest(),
        len(readme),
    )
    raw = mf.canonical(data)
    (out / mf.MANIFEST).write_bytes(raw)
    (out / mf.VERIFIER_KEY).write_text(forged + "\n")
    body = mf.signature_body(hashlib.sha256(raw).hexdigest())
    (out / mf.SIGNATURE).write_text(note.sign_note(body, [signer]))
    return forged


@pytest.fixture
def packages(
    system: bootstrap.System, initialised: Env, tmp_path: Path
) -> tuple[Env, Path, Path, str]:
    """(env, genuine package, forged copy, the operator's key)."""
    genuine = export(system, tmp_path)
    forged = tmp_path / "forged"
    forged.mkdir()
    for path in genuine.rglob("*"):
        target = forged / path.relative_to(genuine)
        if path.is_dir():
            target.mkdir()
        else:
            target.write_bytes(path.read_bytes())
    _forge(forged, system)
    return initialised, genuine, forged, vkey(system)


def test_the_forgery_is_internally_consistent(packages: tuple[Env, Path, Path, str]) -> None:
    """The attack of the review: nothing inside the package gives the forgery away."""
    _, _, forged, key = packages
    report = verify_package(forged)
    assert report.problems == [] and not report.key_trusted
    assert report.status == "untrusted"
    assert json.loads((forged / mf.MANIFEST).read_bytes())["purpose"] == FORGED_PURPOSE
    assert verify_package(forged, trusted_keys=[key]).status == "failed"


def test_without_a_trusted_key_the_origin_is_not_trusted(
    packages: tuple[Env, Path, Path, str],
) -> None:
    env, genuine, forged, _ = packages
    for package in (forged, genuine):  # without a key the two cannot be told apart
        result = env.fails("evidence", "verify", str(package), code=3)
        assert "signature valid, origin key not trusted" in result.stdout
        assert "OK" not in result.stdout
        shipped = (package / mf.VERIFIER_KEY).read_text().strip()
        assert key_fingerprint(shipped) in result.stdout
        data = json.loads(env.fails("evidence", "verify", str(package), "--json", code=3).stdout)
        assert data["status"] == "untrusted" and data["key_trusted"] is False


def test_a_trusted_key_refuses_the_forgery_and_passes_the_genuine(
    packages: tuple[Env, Path, Path, str], tmp_path: Path
) -> None:
    env, genuine, forged, key = packages
    refused = env.fails("evidence", "verify", str(forged), "--key", key, code=1)
    assert "untrusted-key: verifier-key.txt" in refused.stdout
    assert "mismatch" in refused.stdout or "invalid-signature" in refused.stdout
    genuine_ok = env.ok("evidence", "verify", str(genuine), "--key", key).stdout
    assert "OK: the package is intact" in genuine_ok
    trusted = tmp_path / "trusted-keys"
    trusted.write_text(
        "# keys of the logs we accept evidence from, read out by their operators\n"
        f"\n{note.generate_signer('other.example/log')[1]}  # another county\n"
        f"{key}  # Acme operations, fingerprint checked by phone 2024-05-02\n"
    )
    env.fails("evidence", "verify", str(forged), "--trusted-keys", str(trusted), code=1)
    env.ok("evidence", "verify", str(genuine), "--trusted-keys", str(trusted))
    env.monkeypatch.setenv("OVERSIGHT_TRUSTED_KEYS_FILE", str(trusted))
    env.fails("evidence", "verify", str(forged), code=1)
    ok = env.ok("evidence", "verify", str(genuine), "--json")
    assert json.loads(ok.stdout)["status"] == "ok"


def test_a_bad_trusted_keys_file_is_a_usage_error(
    packages: tuple[Env, Path, Path, str], tmp_path: Path
) -> None:
    env, genuine, _, key = packages
    bad = tmp_path / "trusted-keys"
    bad.write_text(f"{key}\nnot-a-key\n")
    result = env.fails("evidence", "verify", str(genuine), "--trusted-keys", str(bad))
    assert f"error: {bad}:2: " in result.stderr
    empty = tmp_path / "empty"
    empty.write_text("# nothing yet\n")
    result = env.fails("evidence", "verify", str(genuine), "--trusted-keys", str(empty))
    assert f"error: {empty}: no verifier key in the file" in result.stderr
    missing = tmp_path / "missing"
    result = env.fails("evidence", "verify", str(genuine), "--trusted-keys", str(missing))
    assert f"cannot read {missing}" in result.stderr


def test_the_readme_says_how_to_get_the_key_out_of_band(
    packages: tuple[Env, Path, Path, str],
) -> None:
    env, genuine, _, key = packages
    readme = (genuine / mf.README).read_text()
    assert "oversight ledger pubkey --fingerprint" in readme
    assert key_fingerprint(key) in readme
    assert "--trusted-keys" in readme
    printed = env.ok("ledger", "pubkey", "--fingerprint").stdout
    assert printed == f"{key_fingerprint(key)}\n"
    assert env.ok("ledger", "pubkey").stdout == f"{key}\n"  # unchanged for scripts
