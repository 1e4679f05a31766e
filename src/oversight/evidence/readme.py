"""README.txt of an evidence package: what it is, who released it and why, how to check it.

Rendered from the manifest (before its ``readme`` entry is known: the manifest then
records the README's own SHA-256, so the README is covered by the signature too).
Pure.
"""

from __future__ import annotations

from oversight.evidence import manifest as mf
from oversight.evidence.verify import key_fingerprint


def _clip_lines(m: mf.Manifest) -> list[str]:
    lines = []
    for clip in m.clips:
        how = []
        if clip.watermark:
            how.append("visible watermark")
        if clip.masks:
            how.append("privacy masks")
        treatment = (
            "re-encoded with " + " and ".join(how)
            if how
            else "stream copy: the recorded video, not re-encoded"
        )
        lines += [f"  {clip.file}", f"    camera {clip.camera}, {clip.start} to {clip.end} (UTC)"]
        if clip.requested is not None:
            lines.append(
                f"    asked for {clip.requested.start} to {clip.requested.end}; cut at "
                "keyframes inside that range"
            )
        lines += [
            f"    {treatment}",
            f"    {clip.bytes} bytes, SHA-256 {clip.sha256}",
            f"    cut from {len(clip.source_segments)} sealed segment(s)",
        ]
    return lines


def render_readme(m: mf.Manifest) -> str:
    sources = [
        f"  {s.camera} #{s.seq}  {s.start} .. {s.end}  leaf {s.leaf_index}  {s.proof}"
        + (f"  {s.file}" if s.file else "")
        for s in m.source_segments
    ]
    audit = [f"  leaf {a.leaf_index}  {a.proof}" for a in m.audit] or ["  (none)"]
    lines = [
        "OVERSIGHT EVIDENCE PACKAGE",
        "==========================",
        "",
        "This directory holds CCTV footage released from an Oversight footage-custody",
        "system, with the cryptographic proofs that it was recorded and sealed there and",
        "not altered since. Handle it as the purpose below allows and no further.",
        "",
        f"Released by:      {m.released_by}",
        f"Executed by:      {', '.join(m.executed_by)} (user ids; both present)",
        f"Created:          {m.created_at} (UTC)",
        f"Request / grant:  {m.request} / {m.grant} ({m.kind})",
        f"Requester:        {m.requester.name}, {m.requester.organisation}"
        f" ({m.requester.org_class})",
        f"Purpose:          {m.purpose}",
        f"Destination:      {m.destination}",
        f"Scope:            cameras {', '.join(m.scope.cameras)},"
        f" {m.scope.start} to {m.scope.end} (UTC)",
        "",
        "CLIPS",
        *_clip_lines(m),
        "",
        "Each clip holds only footage from inside the range it was asked for: it starts",
        "at the first keyframe at or after the range start and ends before the range end,",
        "so up to one keyframe interval (typically 1-4 s) at each edge is left out. The",
        "times above are those of its first and last frames; manifest.json lists, per",
        "sealed segment, the part of the clip taken from it.",
        "",
        "SEALED SOURCE SEGMENTS (each proven to be in the log)",
        *sources,
        "",
        "AUDIT RECORDS OF THIS RELEASE (access leaves, proven to be in the log)",
        *audit,
        "",
        "FILES",
        "  manifest.json      what is here (RFC 8785 canonical JSON); lists every file",
        "  manifest.sig       the log's signature over the SHA-256 of manifest.json",
        "  checkpoint.txt     a signed checkpoint of the log (c2sp.org/tlog-checkpoint)",
        "  verifier-key.txt   the log's public verifier key (signed-note key format)",
        "  README.txt         this text (its SHA-256 is in manifest.json too)",
        "  proofs/N.tlog-proof  inclusion proof of leaf N (c2sp.org/tlog-proof@v1)",
        "  clips/             the footage",
        "  segments/          the original sealed segments, when the release includes them",
        "",
        "HOW TO VERIFY",
        "",
        "The key shipped here proves nothing by itself: anyone can make a key and",
        "re-sign a whole package with it, swapped footage and all. Get the log's",
        "verifier key from its operator by a channel you trust, not from this package:",
        "  - the operator runs `oversight ledger pubkey` and sends you the key, and",
        "  - reads you its fingerprint by phone (`oversight ledger pubkey --fingerprint`);",
        "    compare it with the fingerprint `oversight evidence verify` prints.",
        f"This package names the log {m.ledger.origin!r} and the key",
        f"  {m.ledger.verifier_key}",
        f"  fingerprint {key_fingerprint(m.ledger.verifier_key)}",
        "(written by whoever made the package: trust it only once it matches).",
        "",
        "With Oversight (no database needed):",
        "  oversight evidence verify DIR --key 'THE-KEY-YOU-TRUST'",
        "or keep the keys you trust in a file, one per line with a # comment:",
        "  oversight evidence verify DIR --trusted-keys FILE",
        "  (or set OVERSIGHT_TRUSTED_KEYS_FILE=FILE once).",
        "Exit 0: intact and from a key you trust. Exit 3: intact, but signed by a key",
        'you have not said you trust ("signature valid, origin key not trusted").',
        "Exit 1: something was changed, added or removed (each problem is listed).",
        "",
        "By hand, with any RFC 9162 / C2SP implementation (e.g. Go's",
        "golang.org/x/mod/sumdb/note and sumdb/tlog, or transparency-dev/merkle):",
        "  1. sha256sum manifest.json; manifest.sig is a signed note whose text is",
        f"     '{mf.SIG_HEADER}' and 'sha256 <that hex>'; verify it with the key.",
        "  2. checkpoint.txt is a signed note: verify it with the key. Its lines are the",
        "     origin, the tree size and the base64 root hash, equal to manifest.json's",
        "     ledger.tree_size and ledger.root_hash.",
        "  3. For each proofs/N.tlog-proof: base64-decode its 'extra' line (the leaf),",
        "     compute SHA-256(0x00 || leaf), and verify the RFC 9162 inclusion proof",
        "     (the following lines, leaf to root) at 'index N' against the size and",
        "     root of the checkpoint after the blank line (the same as checkpoint.txt).",
        "     The leaf is JSON: a segment_sealed leaf must name the camera, seq,",
        "     storage_key, sha256 and bytes manifest.json gives for that segment; an",
        "     access leaf must name this grant.",
        "  4. sha256sum each clip (and segment file) and compare with manifest.json.",
        "  5. No file may be present that manifest.json does not list.",
        "",
        "A change of a single byte in any file makes one of these checks fail.",
    ]
    return "\n".join(lines) + "\n"
