"""Every request the emulator answers, for benchmarks (requests per run) and for debugging.

Only the method, path (without query), status, timing and the response body's size are kept: never
headers or bodies, so no credential reaches the log.
"""

from __future__ import annotations

import time


class RequestLog:
    def __init__(self, db):
        self._db = db
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY AUTOINCREMENT, real_time REAL, "
            "service TEXT, method TEXT, path TEXT, status INTEGER, duration_ms REAL, fault TEXT, bytes INTEGER)"
        )
        # A data dir from before the size was logged: add the column, older entries have none.
        if "bytes" not in {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}:
            self._db.execute("ALTER TABLE requests ADD COLUMN bytes INTEGER")

    def record(
        self,
        service: str,
        method: str,
        path: str,
        status: int,
        started: float,
        fault: str | None,
        size: int | None = None,
    ) -> None:
        """``size``: bytes of the response body (None when nothing was answered)."""
        self._db.execute(
            "INSERT INTO requests (real_time, service, method, path, status, duration_ms, fault, bytes) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (started, service, method, path, status, (time.time() - started) * 1000, fault, size),
        )

    def entries(self, since_id: int = 0, limit: int = 10000) -> list[dict]:
        rows = self._db.execute(
            "SELECT id, real_time, service, method, path, status, duration_ms, fault, bytes FROM requests WHERE id > ? "
            "ORDER BY id LIMIT ?",
            (since_id, limit),
        )
        keys = ("id", "real_time", "service", "method", "path", "status", "duration_ms", "fault", "bytes")
        return [dict(zip(keys, row)) for row in rows]

    def summary(self, since_id: int = 0) -> dict:
        rows = self._db.execute(
            "SELECT service, COUNT(*) FROM requests WHERE id > ? GROUP BY service", (since_id,)
        ).fetchall()
        last = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM requests").fetchone()[0]
        return {"by_service": dict(rows), "total": sum(n for _, n in rows), "last_id": last}

    def clear(self) -> None:
        self._db.execute("DELETE FROM requests")
