"""Settings: every knob, from OVERSIGHT_* environment variables, with embedded defaults.

Nothing here touches the disk or the network; ``bootstrap.py`` turns Settings into
concrete objects.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings. Each field is documented in docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="OVERSIGHT_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the embedded database, keys and footage store.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user@host/db. "
            "Default: SQLite at DATA_DIR/oversight.db."
        ),
    )
    rule_packs: str = Field(
        default="xj-2014",
        description="Comma-separated rule packs applied together, e.g. xj-2014,cn-2025.",
    )
    ledger_origin: str = Field(
        default="oversight.local/ledger",
        description="Origin line of signed checkpoints (a schema-less URL naming this log).",
    )

    @field_validator("rule_packs")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not [p for p in value.split(",") if p.strip()]:
            raise ValueError("at least one rule pack is required")
        return value

    @property
    def pack_ids(self) -> list[str]:
        return [p.strip() for p in self.rule_packs.split(",") if p.strip()]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'oversight.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"
