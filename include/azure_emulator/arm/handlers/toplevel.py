"""The routes every top-level Microsoft.Compute resource shares (get, delete, list in a resource
group or the subscription); each family adds its own PUT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from azure_emulator.arm import lro
from azure_emulator.arm.common import (
    COMPUTE,
    SUB,
    api_version,
    compute_id,
    listing,
    not_found,
    public,
    resource_group,
    respond,
)
from azure_emulator.routing import NAME, Call


@dataclass(frozen=True)
class ComputeResource:
    """``segment``: the URL segment (``disks``); ``param``: its path parameter; ``kind``: the store kind;
    ``delete``: the model's delete (emulated duration, or None when missing); ``family``: where its
    operations are polled.
    """

    segment: str
    param: str
    kind: str
    delete: Callable
    family: str = "operations"

    @property
    def pattern(self) -> str:
        return rf"{COMPUTE}/{self.segment}/(?P<{self.param}>{NAME})"

    def resource_id(self, call: Call) -> str:
        return compute_id(call, self.segment, call.params[self.param])

    async def get(self, call: Call):
        api_version(call)
        found = call.backend.view(self.kind, self.resource_id(call))
        if found is None:
            raise not_found(f"Microsoft.Compute/{self.segment}", call.params[self.param], call)
        return respond(public(found))

    async def remove(self, call: Call):
        api_version(call)
        duration = self.delete(call.backend, self.resource_id(call))
        if duration is None:
            return respond(None, 204)
        op = lro.begin(call, location=call.backend.settings.location, duration=duration, family=self.family)
        return lro.accepted(call, op)

    async def list_in_group(self, call: Call):
        api_version(call)
        resource_group(call)
        return listing(call.backend.views(self.kind, compute_id(call, self.segment, "")))

    async def list_in_subscription(self, call: Call):
        api_version(call)
        return listing(call.backend.views(self.kind, f"/subscriptions/{call.params['subscription']}/"))

    def routes(self, put) -> list:
        return [
            ("PUT", self.pattern, put),
            ("GET", self.pattern, self.get),
            ("DELETE", self.pattern, self.remove),
            ("GET", rf"{COMPUTE}/{self.segment}", self.list_in_group),
            ("GET", rf"{SUB}/providers/Microsoft\.Compute/{self.segment}", self.list_in_subscription),
        ]
