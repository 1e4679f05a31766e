"""Who may reach what: the role sets the API routes and console pages require.

The CLI uses the same sets (``services.access.APPROVERS``, the audit readers); an empty
tuple means any logged-in person.
"""

from __future__ import annotations

from oversight.services.access import APPROVERS

ANYONE: tuple[str, ...] = ()
# Registry, filing and recorder configuration: the people who run the cameras.
REGISTRARS = ("admin", "operator")
# Footage-handling decisions and executions (Arts. 16-17).
CUSTODIANS = APPROVERS
# The audit register (Art. 14(3)).
AUDIT_READERS = ("auditor", "admin", "custodian")
# Operational state: recordings, health, compliance, retention plans.
STAFF = ("admin", "operator", "custodian", "auditor")
# Accounts and training records.
PEOPLE_READERS = ("admin", "auditor")
