"""Helper process for test_log: appends batches of 100 leaves forever, one transaction
each, until it is killed. Reads its data dir and database from OVERSIGHT_* variables."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from oversight import bootstrap
from oversight.config import Settings
from oversight.ledger import leaves

BATCH = 100


def main() -> None:
    system = bootstrap.build(Settings())
    n = 0
    while True:
        batch = [
            leaves.registry(
                at=datetime.now(UTC),
                actor="writer",
                action="test.append",
                subject=f"s{n + i}",
                changes={"n": n + i},
            )
            for i in range(BATCH)
        ]
        with system.sessions.begin() as session:
            system.ledger.append(session, batch)
        n += BATCH
        sys.stdout.write(f"{n}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
