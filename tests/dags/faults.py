"""What the pipeline's fault tests read from a run and from the emulator: the rules that have not fired yet,
what Azure answered at a resource, and the failure a run reported.
"""

from __future__ import annotations

import re


def remaining_faults(cloud) -> list[dict]:
    """Fault rules that have not fired their ``count`` yet (a spent rule is removed)."""
    return cloud.control.get("/faults").json()["value"]


def answers(run, method: str, path: str) -> list[int]:
    """The statuses Azure answered the run's ``method`` requests whose path matches ``path`` (a regular
    expression), in order; 0 where the connection was dropped.
    """
    return [r["status"] for r in run.requests if r["method"] == method and re.search(path, r["path"], re.IGNORECASE)]


def faulted(run, kind: str) -> int:
    """How many of the run's requests a transport fault of ``kind`` answered."""
    return sum(1 for r in run.requests if r["fault"] == kind)


def failure(run, pattern: str) -> str:
    """The first match of ``pattern`` in what the run logged (the run's log tail if there is none)."""
    found = re.search(pattern, run.output)
    assert found, run.output[-4000:]
    return found.group(0)
