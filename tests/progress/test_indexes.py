"""The progress queries that must stay on an index, checked with the database's own planner."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from studyhub.core.db import Database
from tests.progress.conftest import ProgressWorld, ago


async def test_manual_events_are_read_through_the_partial_index(
    pw: ProgressWorld, app: FastAPI, database: Database
) -> None:
    """`ix_progress_events_manual` covers only complete/uncomplete events (so other inserts skip
    it); the read-back must repeat its predicate with literals for either planner to use it."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "FROM progress_events" in statement:
            seen.append((statement, parameters))

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        body = await pw.batch([pw.event("done", "complete", ago(seconds=1))])
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert body["results"][0]["status"] == "applied"
    [(statement, parameters)] = seen
    async with database.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        else:
            # Planned as a prepared statement is after a few runs: without the parameters' values
            # (a predicate with bound parameters could not use the partial index then).
            args = ", ".join(f"'{p}'" if isinstance(p, str) else str(p) for p in parameters)
            await conn.exec_driver_sql(f"PREPARE manual_events AS {statement}")
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            plan = await conn.exec_driver_sql(f"EXPLAIN EXECUTE manual_events({args})")
        text = "\n".join(str(row) for row in plan.all())
    assert "ix_progress_events_manual" in text, text
