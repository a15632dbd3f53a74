"""The emulator's control endpoint, as the bench uses it: a clean state with every duration pinned
before each measurement, and the request log between two marks.
"""

from __future__ import annotations

import requests

from bench.settings import DURATIONS

# Services whose requests a run is charged for: the Azure APIs. Token requests (entra, msi) and the
# bench's own control requests are not part of a pipeline's API bill.
AZURE_SERVICES = ("arm", "batch")


class Control:
    def __init__(self, info: dict):
        self.url = info["control_endpoint"]
        self.ca_bundle = info["ca_bundle"]
        self.session = requests.Session()

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        # Passed with each request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE from the environment.
        response = self.session.request(method, f"{self.url}{path}", timeout=60, verify=self.ca_bundle, **kwargs)
        response.raise_for_status()
        return response

    def prepare(self) -> None:
        """Forget every resource and logged request, then set every duration to the bench's."""
        self.call("POST", "/reset")
        self.pin()

    def pin(self, overrides: dict[str, float] | None = None) -> None:
        """Set every duration: the bench's, with ``overrides``."""
        durations = {**DURATIONS, **(overrides or {})}
        known = self.call("PATCH", "/durations", json=durations).json()
        unpinned = sorted(set(known) - set(durations))
        if unpinned:
            raise RuntimeError(
                f"the emulator has durations the bench does not set: {unpinned}; add them to "
                "bench/settings.py DURATIONS so that the numbers never follow its defaults"
            )

    def mark(self) -> int:
        """The id of the last request logged so far (the log is never emptied but by a reset)."""
        return self.call("GET", "/requests", params={"since": 2**62}).json()["summary"]["last_id"]

    def azure_requests(self, since: int) -> list[dict]:
        """Every ARM and Batch request answered between the mark ``since`` and now, read page by page
        (each read of the log is itself logged, so the reading stops at the mark taken first).
        """
        until, found = self.mark(), []
        while since < until:
            page = self.call("GET", "/requests", params={"since": since}).json()["value"]
            found += [entry for entry in page if entry["id"] <= until and entry["service"] in AZURE_SERVICES]
            since = page[-1]["id"]
        return found


def tally(entries: list[dict]) -> dict:
    """Requests and response bytes, in total and per service."""
    per_service = {s: sum(e["service"] == s for e in entries) for s in AZURE_SERVICES}
    return {"requests": len(entries), "bytes": sum(e["bytes"] or 0 for e in entries), **per_service}
