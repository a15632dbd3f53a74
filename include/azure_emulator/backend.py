"""Everything a model needs: state, time, faults, durations, identities; one per emulator process."""

from __future__ import annotations

from pathlib import Path

from azure_emulator import clouds, timeline
from azure_emulator.auth import TokenAuthority
from azure_emulator.clock import Clock
from azure_emulator.durations import Durations
from azure_emulator.entra.credentials import AppCertificate, FederatedIssuer
from azure_emulator.faults import FaultBook
from azure_emulator.requestlog import RequestLog
from azure_emulator.settings import load_or_create
from azure_emulator.store import Store


class Backend:
    def __init__(self, data_dir: Path, speed: float, cloud: str | None = None):
        self.data_dir = data_dir
        self.store = Store(data_dir / "state.sqlite")
        self.clock = Clock(self.store, speed)
        self.settings = load_or_create(self.store, cloud)
        self.cloud = clouds.named(self.settings.cloud)
        self.faults = FaultBook(self.store)
        self.durations = Durations(self.store)
        self.requests = RequestLog(self.store.db)
        self.tokens = TokenAuthority(data_dir, self.settings.tenant_id)
        self.app_certificate = AppCertificate(data_dir, self.settings.client_id)
        self.federation = FederatedIssuer(
            data_dir, self.settings.federated_issuer, self.settings.federated_subject, self.settings.federated_audience
        )

    def now(self) -> float:
        return self.clock.now()

    # resource access: views are pure reads, mutations settle first --------------------------------
    def view(self, kind: str, key: str) -> dict | None:
        """The resource as it is now, or None if it does not exist (any more)."""
        doc = self.store.get(kind, key)
        if doc is None:
            return None
        now = self.now()
        current = timeline.view(doc, now)
        if timeline.is_gone(current):
            if not timeline.pending(doc, now):
                self.store.delete(kind, key)
            return None
        return current

    def views(self, kind: str, prefix: str = "") -> list[dict]:
        found = []
        for key, _ in self.store.items(kind, prefix):
            current = self.view(kind, key)
            if current is not None:
                found.append(current)
        return found

    def settled(self, kind: str, key: str) -> dict | None:
        """The stored document with every due change applied, ready to be changed and saved."""
        doc = self.store.get(kind, key)
        if doc is None:
            return None
        timeline.settle(doc, self.now())
        if timeline.is_gone(doc):
            self.store.delete(kind, key)
            return None
        return doc

    def save(self, kind: str, key: str, doc: dict) -> dict:
        return self.store.put(kind, key, doc)

    def schedule(self, kind: str, key: str, delay: float, changes: dict) -> None:
        """Schedule ``changes`` on another stored resource ``delay`` emulated seconds from now."""
        doc = self.settled(kind, key)
        if doc is not None:
            timeline.schedule(doc, self.now() + delay, changes)
            self.save(kind, key, doc)

    def retry_after(self, remaining_emulated: float, hint_emulated: float = 10.0) -> dict[str, str]:
        """Retry-After for a poll: Azure's usual hint, never past the expected end, in real time.

        Azure sends whole seconds; compressed time often needs less than one, so sub-second waits are
        sent as ``retry-after-ms``, which the SDKs read when Retry-After is absent.
        """
        wait = self.clock.real_seconds(max(1.0, min(hint_emulated, max(remaining_emulated, 0.0))))
        wait = max(wait, 0.02)
        if wait >= 1:
            return {"Retry-After": str(int(round(wait)))}
        return {"retry-after-ms": str(int(wait * 1000))}

    def reset(self) -> None:
        """Forget every resource, fault, duration override and logged request; keep identities and keys."""
        self.store.clear()
        self.faults.clear()
        self.durations.reset()
        self.requests.clear()
