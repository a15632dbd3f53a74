"""Emulated time: runs ``speed`` times faster than real time and survives restarts.

Every duration in the emulator is expressed in emulated seconds; the clock turns them into real
seconds for Retry-After headers. The anchor (real instant, emulated instant, speed) is stored so a
restarted emulator continues where the last one left off: the downtime counts as emulated time at
the old speed, the way Azure keeps working while a client is away.
"""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    def __init__(self, store, speed: float):
        if speed <= 0:
            raise ValueError("speed must be positive")
        anchor = store.meta_get("clock")
        real_now = time.time()
        emulated_now = real_now
        if anchor:
            emulated_now = anchor["emulated"] + (real_now - anchor["real"]) * anchor["speed"]
        self.speed = float(speed)
        self._real0 = real_now
        self._emulated0 = emulated_now
        store.meta_put("clock", {"real": real_now, "emulated": emulated_now, "speed": self.speed})

    def now(self) -> float:
        """Emulated seconds since the epoch."""
        return self._emulated0 + (time.time() - self._real0) * self.speed

    def real_seconds(self, emulated_seconds: float) -> float:
        return emulated_seconds / self.speed


def iso(t: float) -> str:
    """ISO 8601 in UTC with a Z suffix, as ARM and Batch print times."""
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def rfc1123(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
