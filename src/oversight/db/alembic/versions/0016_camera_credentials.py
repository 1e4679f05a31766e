"""Camera credentials apart from the stream URL, encrypted (finding 4 of issue 18).

``cameras.stream_url`` held passwords and tokens in clear. Each existing row is split
by the one redactor: the URL keeps ``***`` where the userinfo and secret parameters
were, and ``cameras.credentials`` gets what they stood for, sealed by the function
that ``oversight init`` hands in as the ``seal_credentials`` attribute (Fernet under
keys/credentials.key, services/credentials.py). Without it (the bare ``alembic``
command) a database whose URLs hold credentials is refused, never left half moved.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from oversight import redaction

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_cameras = sa.table(
    "cameras",
    sa.column("id", sa.String),
    sa.column("stream_url", sa.Text),
    sa.column("credentials", sa.Text),
)


def _attribute(name: str) -> Callable[..., str] | None:
    config = op.get_context().config
    value = config.attributes.get(name) if config is not None else None
    return value if callable(value) else None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("credentials", sa.Text(), nullable=True))
    bind = op.get_bind()
    seal = _attribute("seal_credentials")
    for cam_id, url in bind.execute(sa.select(_cameras.c.id, _cameras.c.stream_url)).all():
        stored, found = redaction.split_url(url)
        if not found:
            continue
        if seal is None:
            raise RuntimeError(
                f"camera {cam_id}: its stream URL holds credentials; run `oversight init` "
                "to move them into the encrypted column"
            )
        bind.execute(
            _cameras.update()
            .where(_cameras.c.id == cam_id)
            .values(stream_url=stored, credentials=seal(found))
        )


def downgrade() -> None:
    bind = op.get_bind()
    unseal = _attribute("open_credentials")
    rows = bind.execute(
        sa.select(_cameras.c.id, _cameras.c.stream_url, _cameras.c.credentials).where(
            _cameras.c.credentials.is_not(None)
        )
    ).all()
    for cam_id, stored, token in rows:
        if unseal is None:
            raise RuntimeError(f"camera {cam_id}: downgrading needs the credentials key")
        bind.execute(
            _cameras.update()
            .where(_cameras.c.id == cam_id)
            .values(stream_url=unseal(stored, token))
        )
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("credentials")
