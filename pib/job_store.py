"""The table of the scheduler's persistent job store, declared so that migrations own it.

APScheduler's SQLAlchemyJobStore creates this table when missing; declaring the same table here makes it
part of the schema (created by migration 0007, known to Alembic) instead of a stranger in the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

TABLE = "apscheduler_jobs"

jobs_table = sa.Table(
    TABLE,
    SQLModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary(), nullable=False),
)


def job_store(engine: Engine) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=engine, tablename=TABLE)
