"""Microsoft.Resources at the top: Subscriptions - List and Get, Subscriptions - List Locations, Tenants - List.

What ``az login`` reads after it has a token (tenants, then subscriptions), and where a client learns the
regions of the cloud it is in (with their availability zone mappings and metadata).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator import regions
from azure_emulator.arm.common import SUB, api_version, paged, respond

if TYPE_CHECKING:
    from azure_emulator.routing import Call

# Subscriptions - List Locations answers availability zone mappings from this api-version on.
ZONE_MAPPINGS_SINCE = "2022-12-01"


def _subscription(call: Call) -> dict:
    s = call.backend.settings
    policies = {"quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"}
    if call.backend.cloud.metadata_name == "AzureCloud":
        policies["locationPlacementId"] = "Public_2014-09-01"
    return {
        "id": f"/subscriptions/{s.subscription_id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": s.subscription_id,
        "tenantId": s.tenant_id,
        "displayName": "imagepool (local Azure)",
        "state": "Enabled",
        "subscriptionPolicies": policies,
        "tags": {},
    }


async def list_subscriptions(call: Call):
    api_version(call)
    return paged(call, [_subscription(call)])


async def get_subscription(call: Call):
    # ``authenticate`` already refused a subscription the caller cannot see (404 SubscriptionNotFound).
    api_version(call)
    return respond(_subscription(call))


async def list_tenants(call: Call):
    api_version(call)
    tenant = call.backend.settings.tenant_id
    return paged(
        call,
        [
            {
                "id": f"/tenants/{tenant}",
                "tenantId": tenant,
                "countryCode": "US",
                "displayName": "imagepool (local Azure)",
                "domains": ["imagepool.onmicrosoft.com"],
                "tenantCategory": "Home",
                "defaultDomain": "imagepool.onmicrosoft.com",
                "tenantType": "AAD",
            }
        ],
    )


def location_document(subscription: str, region: regions.Region, zone_mappings: bool) -> dict:
    """A region as Subscriptions - List Locations describes it."""
    doc: dict = {
        "id": f"/subscriptions/{subscription}/locations/{region.name}",
        "name": region.name,
        "type": "Region",
        "displayName": region.display_name,
        "regionalDisplayName": region.regional_display_name,
    }
    if region.logical:
        doc["metadata"] = {"regionType": "Logical", "regionCategory": "Other"}
        return doc
    doc["metadata"] = {
        "regionType": "Physical",
        "regionCategory": "Recommended" if region.recommended else "Other",
        "geography": region.geography,
        "geographyGroup": region.geography_group,
        "physicalLocation": region.physical_location,
        "pairedRegion": (
            [{"name": region.paired, "id": f"/subscriptions/{subscription}/locations/{region.paired}"}]
            if region.paired
            else []
        ),
    }
    if zone_mappings and region.zones:
        doc["availabilityZoneMappings"] = [
            {"logicalZone": zone, "physicalZone": f"{region.name}-az{zone}"} for zone in ("1", "2", "3")
        ]
    return doc


async def list_locations(call: Call):
    version = api_version(call)
    subscription = call.params["subscription"]
    # Not pageable in the REST spec: every location in one answer.
    return respond(
        {
            "value": [
                location_document(subscription, region, version >= ZONE_MAPPINGS_SINCE)
                for region in regions.all_regions(call.backend)
            ]
        }
    )


ROUTES = [
    ("GET", r"/subscriptions", list_subscriptions),
    ("GET", SUB, get_subscription),
    ("GET", rf"{SUB}/locations", list_locations),
    ("GET", r"/tenants", list_tenants),
]
