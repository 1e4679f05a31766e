"""SQLAlchemy models. The schema changes only through Alembic migrations (db/alembic)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    qualification_no: Mapped[str | None] = mapped_column(String(100))
    qualification_expires: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    owner_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    address: Mapped[str | None] = mapped_column(Text)
    managing_body: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    placement: Mapped[str] = mapped_column(String(64))
    coverage_point: Mapped[str] = mapped_column(String(64))
    # May carry credentials: never log it; show it only through redact_url().
    stream_url: Mapped[str] = mapped_column(Text)
    installer_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    commissioned: Mapped[date] = mapped_column(Date)
    removed: Mapped[date | None] = mapped_column(Date)
    # List of polygons, each a list of [x, y] in 0..1 frame coordinates.
    privacy_masks: Mapped[list[list[list[float]]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Filing(Base):
    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("camera_id", "kind", name="uq_filing_camera_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    kind: Mapped[str] = mapped_column(String(16))
    filed_on: Mapped[date] = mapped_column(Date)
    receipt: Mapped[str] = mapped_column(String(100))
    police_office: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Obstruction(Base):
    __tablename__ = "obstructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    reported_on: Mapped[date] = mapped_column(Date)
    cause: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    responsible_party: Mapped[str | None] = mapped_column(String(200))
    resolved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
