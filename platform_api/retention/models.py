"""A record of each maintenance run (retention), so an administrator or a DPO can see that it ran and what it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from platform_api.core.db import Base, IdMixin, utcnow


class MaintenanceRun(IdMixin, Base):
    __tablename__ = "maintenance_runs"

    kind: Mapped[str] = mapped_column(String(32), index=True)  # retention
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | cli
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | succeeded | failed
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what was deleted, by kind; never who
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
