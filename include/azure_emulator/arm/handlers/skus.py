"""Resource SKUs - List (``Microsoft.Compute/skus``) and Usage - List (compute quotas of a region), from the
catalogue; both answer in pages (``nextLink``).
"""

from __future__ import annotations

import re

from azure_emulator import catalogue, regions
from azure_emulator.arm.common import SUB, api_version, paged, region_in_path
from azure_emulator.arm.models.virtualmachines import VMS
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

# The one filter Resource SKUs takes (the REST spec: "Only location filter is supported currently").
LOCATION_FILTER = re.compile(r"^\s*location\s+eq\s+'(?P<location>[^']*)'\s*$", re.IGNORECASE)


def _filtered_location(call: Call) -> str | None:
    """The location ``$filter`` names, in its short form (the name as given if no region has it)."""
    text = call.query.get("$filter")
    if text is None:
        return None
    found = LOCATION_FILTER.match(text)
    if found is None:
        raise AzureError(
            "InvalidParameter",
            f"The filter '{text}' is not supported: Resource SKUs can be filtered by location only "
            "(location eq '<location>').",
            target="$filter",
        )
    region = regions.find(call.backend, found["location"])
    return region.name if region else found["location"]


async def list_skus(call: Call):
    api_version(call)
    return paged(call, catalogue.skus(call.backend, _filtered_location(call)))


async def list_usages(call: Call):
    location = region_in_path(call)
    vms = [
        vm
        for vm in call.backend.views(VMS, f"/subscriptions/{call.params['subscription']}/")
        if vm["location"] == location
    ]
    return paged(call, catalogue.usages(call.backend, location, vms))


ROUTES = [
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/skus", list_skus),
    ("GET", rf"{SUB}/providers/Microsoft\.Compute/locations/(?P<location>{NAME})/usages", list_usages),
]
