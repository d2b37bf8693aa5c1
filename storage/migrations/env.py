"""Alembic environment: uses the engine handed over by storage.migrate (or DATABASE_URL)."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import text

from storage.db import make_engine
from storage.models import Base

config = context.config
engine = config.attributes.get("engine") or make_engine(os.environ.get("DATABASE_URL", "sqlite:///mktbot.db"))

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Replicas starting together: one migrates, the others wait for it.
        connection.execute(text("SELECT pg_advisory_lock(7315001)"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(7315001)"))
            connection.commit()
