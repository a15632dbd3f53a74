"""State in SQLite under the data dir, with a write-through in-memory cache.

Documents are JSON dicts grouped by kind and keyed by a lower-cased key (Azure names are
case-insensitive but case-preserving; the original spelling lives inside the document). The
emulator serves requests on one event-loop thread, so a handler's read-modify-write is atomic.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path


class Store:
    def __init__(self, path: Path):
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS docs (kind TEXT, key TEXT, doc TEXT, PRIMARY KEY (kind, key))")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        self._docs: dict[str, dict[str, dict]] = {}
        for kind, key, doc in self._db.execute("SELECT kind, key, doc FROM docs"):
            self._docs.setdefault(kind, {})[key] = json.loads(doc)

    # documents ---------------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> dict | None:
        return self._docs.get(kind, {}).get(key.lower())

    def put(self, kind: str, key: str, doc: dict) -> dict:
        key = key.lower()
        self._docs.setdefault(kind, {})[key] = doc
        self._db.execute("INSERT OR REPLACE INTO docs VALUES (?, ?, ?)", (kind, key, json.dumps(doc)))
        return doc

    def delete(self, kind: str, key: str) -> None:
        key = key.lower()
        self._docs.get(kind, {}).pop(key, None)
        self._db.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))

    def items(self, kind: str, prefix: str = "") -> Iterator[tuple[str, dict]]:
        prefix = prefix.lower()
        for key, doc in list(self._docs.get(kind, {}).items()):
            if key.startswith(prefix):
                yield key, doc

    def kinds(self) -> list[str]:
        return sorted(k for k, docs in self._docs.items() if docs)

    def clear(self) -> None:
        self._docs.clear()
        self._db.execute("DELETE FROM docs")

    # settings and bookkeeping -------------------------------------------------------------------
    def meta_get(self, name: str, default=None):
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_put(self, name: str, value) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))

    @property
    def db(self) -> sqlite3.Connection:
        return self._db

    def close(self) -> None:
        self._db.close()
