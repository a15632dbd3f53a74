"""Scheduled state changes: how every long-running Azure behaviour is emulated.

A document carries ``_timeline``, a sorted list of ``[at, {"dotted.path": value}]`` entries in
emulated seconds. Reading a resource applies every entry that is due (a pure view, nothing is
written); a mutation first settles the due entries into the document, then schedules new ones.
A resource whose view has ``_deleted`` set is gone. Because the schedule is data in the stored
document, an emulator restarted on the same data dir carries on with in-flight operations.

Views are copy-on-write, so reading a large document (a pool of thousands of nodes) costs only
the containers a due change touches: a view is a new top-level dict, the containers on each due
change's path are copied, and everything else is shared with the stored document and its
schedule. A view is therefore read-only below its top level: code that derives a changed
document from a view copies what it changes (``dict(view["properties"], ...)``), and code that
changes a resource works on ``Backend.settled`` documents.
"""

from __future__ import annotations

import copy
from typing import Any

TIMELINE = "_timeline"
DELETED = "_deleted"


def schedule(doc: dict, at: float, changes: dict[str, Any]) -> None:
    entries = doc.setdefault(TIMELINE, [])
    entries.append([at, changes])
    entries.sort(key=lambda entry: entry[0])


def _apply(doc: dict, changes: dict[str, Any]) -> None:
    # Settled values become part of a document that is changed in place later, while scheduled values
    # may be shared (module constants, views handed out): copy them.
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = doc
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = copy.deepcopy(value)


def view(doc: dict, now: float) -> dict:
    """The document as it is at ``now``, without its schedule (read-only below the top level)."""
    current = {k: v for k, v in doc.items() if k != TIMELINE}
    # The containers this view owns (copied here), by id; keeping them referenced keeps the ids unique.
    owned = {id(current): current}
    for at, changes in doc.get(TIMELINE, []):
        if at > now:
            break
        for path, value in changes.items():
            *parents, leaf = path.split(".")
            target = current
            for part in parents:
                child = target.get(part)
                if id(child) not in owned:
                    child = dict(child or {})
                    owned[id(child)] = child
                    target[part] = child
                target = child
            target[leaf] = value
    return current


def settle(doc: dict, now: float) -> dict:
    """Apply the due entries to the document itself and drop them from its schedule."""
    entries = doc.get(TIMELINE, [])
    while entries and entries[0][0] <= now:
        _apply(doc, entries.pop(0)[1])
    if not entries:
        doc.pop(TIMELINE, None)
    return doc


def cancel(doc: dict, *prefixes: str) -> None:
    """Drop pending changes to fields under any of ``prefixes`` (a new operation overrides them)."""
    kept = []
    for at, changes in doc.get(TIMELINE, []):
        rest = {p: v for p, v in changes.items() if not any(p == x or p.startswith(x + ".") for x in prefixes)}
        if rest:
            kept.append([at, rest])
    if kept:
        doc[TIMELINE] = kept
    else:
        doc.pop(TIMELINE, None)


def pending(doc: dict, now: float) -> bool:
    return any(at > now for at, _ in doc.get(TIMELINE, []))


def next_change(doc: dict, now: float) -> float | None:
    return next((at for at, _ in doc.get(TIMELINE, []) if at > now), None)


def is_gone(current: dict) -> bool:
    return bool(current.get(DELETED))
