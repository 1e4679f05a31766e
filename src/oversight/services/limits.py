"""The input bounds every interface checks before it calls a service.

The largest row id and ledger leaf index are properties of the schema (``db/models``);
the CLI, the API and the console refuse larger numbers as input instead of passing
them to the driver, and take the bounds from here, not from ``oversight.db``.
"""

from __future__ import annotations

from oversight.db.models import MAX_ID, MAX_LEAF

__all__ = ["MAX_ID", "MAX_LEAF"]
