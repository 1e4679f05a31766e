"""The one exception hierarchy of Oversight.

Every error a user can cause derives from :class:`OversightError`. The CLI maps
them to one line and exit 2 (in ``cli/main.py``); the API maps them to
``{"error", "rule", "article"}`` with a 4xx. Third-party errors are translated
into these where they enter (SQLAlchemy, ffmpeg, boto3, YAML).
"""

from __future__ import annotations


class OversightError(Exception):
    """Base of every error Oversight raises on purpose."""

    exit_code = 2
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(OversightError):
    """Malformed user input: a bad date, an unknown vocabulary term, bad YAML."""


class NotFound(OversightError):
    """A referenced object does not exist (a dangling reference)."""

    http_status = 404


class AlreadyExists(OversightError):
    """An object with this id exists already."""

    http_status = 409


class ConfigError(OversightError):
    """Settings or environment are unusable (missing key, unreachable database)."""


class RulePackError(OversightError):
    """A rule pack failed to load or validate. ``problems`` holds one line per error."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class RuleViolation(OversightError):
    """An action a rule pack forbids. Carries the rule id and the article it cites."""

    http_status = 422

    def __init__(self, message: str, *, rule: str, article: str) -> None:
        super().__init__(f"{message} ({article})")
        self.rule = rule
        self.article = article


class StorageError(OversightError):
    """The footage store failed (disk full, permission, object lock)."""


class ProofError(OversightError):
    """A Merkle proof, signature or checkpoint failed verification."""

    exit_code = 1  # a failed check, not a usage error: scripts tell them apart


class IntegrityError(OversightError):
    """Stored state disagrees with the ledger (used by ``oversight verify``)."""

    exit_code = 1


class FootageIntegrityError(IntegrityError):
    """A stored segment differs from its sealed SHA-256 at the enforcement point: nothing
    of it is handed over. The server's fault, not the client's."""

    http_status = 500


class AuthenticationError(OversightError):
    """Who is acting cannot be established: wrong password, no or expired session."""

    http_status = 401


class PermissionDenied(OversightError):
    """The person is known but the policy (``domain/policy.py``) refuses the action.

    ``rule`` names the policy rule that refused (``role``, ``site_scope``, ...)."""

    http_status = 403

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
