"""Evidence packages: export of granted footage, and their offline verifier (docs/evidence.md)."""
