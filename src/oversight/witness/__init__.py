"""``oversight witness``: a C2SP tlog-witness run by someone other than the operator.

A separate program with its own data dir, Ed25519 cosignature key and SQLite
(never the Oversight database): protocol.py decides, store.py remembers, server.py
speaks HTTP. See docs/ledger.md, "Witnesses".
"""
