"""Replay cases: requests shaped after the ``x-ms-examples`` of Azure/azure-rest-api-specs, with what the
emulator must answer (status, the headers the spec declares, the shape of the body).

Each case names the example file it follows; the requests use the emulator's own resources, and a shape
lists the properties the example's answer has with their JSON types (a list holds the shape of its
items). Where an example and its spec's schema disagree, the schema (what the SDKs read) wins and the
case says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ARM = "specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/examples"
COMPUTE = "specification/compute/resource-manager/Microsoft.Compute/Compute/stable"
SKUS = "specification/compute/resource-manager/Microsoft.Compute/Skus/stable/2021-07-01/examples/skus"
BATCH_ARM = "specification/batch/resource-manager/Microsoft.Batch/stable/2024-07-01/examples"
BATCH = "specification/batch/data-plane/Azure.Batch/stable/2025-06-01/examples"

# Response headers every ARM answer carries, and every Batch answer.
ARM_HEADERS = ("x-ms-request-id", "x-ms-correlation-request-id")
BATCH_HEADERS = ("request-id",)
CHANGED = ("ETag", "Last-Modified", "DataServiceId", *BATCH_HEADERS)


@dataclass(frozen=True)
class Case:
    example: str
    method: str
    # Placeholders: {subscription}, {group}, {location}, {account}, {gallery}, {pool}.
    path: str
    params: dict[str, str]
    status: int
    shape: Any = None
    body: dict | None = None
    headers: tuple[str, ...] = ARM_HEADERS
    service: str = "arm"
    note: str = ""
    # Only the listed items whose property (dotted path) has this value are of the example's shape.
    where: tuple[str, str] | None = None


SUBSCRIPTION_SHAPE = {
    "id": str,
    "subscriptionId": str,
    "tenantId": str,
    "displayName": str,
    "state": str,
    "subscriptionPolicies": {"quotaId": str, "spendingLimit": str},
    "authorizationSource": str,
    "managedByTenants": list,
    "tags": dict,
}
LOCATION_SHAPE = {
    "id": str,
    "name": str,
    "type": str,
    "displayName": str,
    "regionalDisplayName": str,
    "metadata": {
        "regionType": str,
        "regionCategory": str,
        "geographyGroup": str,
        "physicalLocation": str,
        "pairedRegion": [{"name": str, "id": str}],
    },
}
BATCH_ACCOUNT_SHAPE = {
    "name": str,
    "type": str,
    "id": str,
    "identity": {"type": str},
    "location": str,
    "properties": {
        "accountEndpoint": str,
        "activeJobAndJobScheduleQuota": int,
        "dedicatedCoreQuota": int,
        "lowPriorityCoreQuota": int,
        "poolAllocationMode": str,
        "poolQuota": int,
        "provisioningState": str,
        "publicNetworkAccess": str,
    },
}
SAFETY_SHAPE = {
    "allowDeletionOfReplicatedLocations": bool,
    "reportedForPolicyViolation": bool,
    "blockDeletionBeforeEndOfLife": bool,
}
VERSION_BODY = {
    "location": "{location}",
    "properties": {
        "publishingProfile": {"targetRegions": [{"name": "{location}", "regionalReplicaCount": 1}]},
        "storageProfile": {"osDiskImage": {"source": {"id": "{snapshot}"}}},
        "safetyProfile": {"allowDeletionOfReplicatedLocations": False, "blockDeletionBeforeEndOfLife": False},
    },
}
VERSION_SHAPE = {
    "id": str,
    "name": str,
    "location": str,
    "properties": {
        "publishingProfile": {"targetRegions": [{"name": str, "regionalReplicaCount": int, "storageAccountType": str}],
                              "replicaCount": int, "publishedDate": str, "storageAccountType": str},
        "storageProfile": {"osDiskImage": {"sizeInGB": int, "hostCaching": str}},
        "safetyProfile": SAFETY_SHAPE,
        "provisioningState": str,
    },
}  # fmt: skip
POOL_SHAPE = {
    "id": str,
    "url": str,
    "eTag": str,
    "lastModified": str,
    "creationTime": str,
    "state": str,
    "allocationState": str,
    "vmSize": str,
    "resizeTimeout": str,
    "currentDedicatedNodes": int,
    "targetDedicatedNodes": int,
    "enableAutoScale": bool,
    "taskSlotsPerNode": int,
    "virtualMachineConfiguration": {"imageReference": {"publisher": str}, "nodeAgentSKUId": str},
}

CASES: list[Case] = [
    Case(f"{ARM}/GetSubscriptions.json", "GET", "/subscriptions", {"api-version": "2022-12-01"}, 200,
         {"value": [SUBSCRIPTION_SHAPE]}),
    Case(f"{ARM}/GetSubscription.json", "GET", "/subscriptions/{subscription}", {"api-version": "2022-12-01"}, 200,
         SUBSCRIPTION_SHAPE),
    Case(f"{ARM}/GetTenants.json", "GET", "/tenants", {"api-version": "2022-12-01"}, 200,
         {"value": [{"id": str, "tenantId": str, "countryCode": str, "displayName": str, "domains": [str],
                     "tenantCategory": str, "defaultDomain": str, "tenantType": str}]}),
    Case(f"{ARM}/GetLocations.json", "GET", "/subscriptions/{subscription}/locations", {"api-version": "2022-12-01"},
         200, {"value": [LOCATION_SHAPE]}, where=("metadata.regionType", "Physical"),
         note="the example shows a bare array; the schema (LocationListResult) and the SDK read {value: [...]}; "
         "logical regions (europe, global) carry no geography"),
    Case(f"{SKUS}/ListAvailableResourceSkusForARegion.json", "GET",
         "/subscriptions/{subscription}/providers/Microsoft.Compute/skus",
         {"api-version": "2021-07-01", "$filter": "location eq '{location}'"}, 200,
         {"value": [{"resourceType": str, "locations": [str], "capabilities": [{"name": str, "value": str}],
                     "locationInfo": [{"location": str, "zones": [str]}], "name": str, "tier": str, "size": str,
                     "family": str, "restrictions": list}], "nextLink": str}),
    Case(f"{COMPUTE}/2026-04-01/examples/computeRPCommonExamples/Usage_List_MaximumSet_Gen.json", "GET",
         "/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location}/usages",
         {"api-version": "2026-04-01"}, 200,
         {"value": [{"unit": str, "currentValue": int, "limit": int, "name": {"value": str, "localizedValue": str}}],
          "nextLink": str}),
    Case(f"{COMPUTE}/2026-04-01/examples/virtualMachineImageExamples/VirtualMachineImage_Get_MaximumSet_Gen.json",
         "GET", "/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location}/publishers/"
         "center-for-internet-security-inc/artifacttypes/vmimage/offers/cis-ubuntu-linux-2204-l1/skus/"
         "cis-ubuntu22.04-l1-gen2/versions/1.0.12", {"api-version": "2026-04-01"}, 200,
         {"name": str, "location": str, "id": str,
          "properties": {"plan": {"publisher": str, "name": str, "product": str}, "osDiskImage": {"operatingSystem": str},
                         "dataDiskImages": list, "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": bool},
                         "hyperVGeneration": str, "disallowed": {"vmDiskType": str}, "features": [{"name": str, "value": str}],
                         "architecture": str, "imageDeprecationStatus": {"imageState": str}}}),
    Case(f"{BATCH_ARM}/BatchAccountGet.json", "GET",
         "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Batch/batchAccounts/{account}",
         {"api-version": "2024-07-01"}, 200, BATCH_ACCOUNT_SHAPE,
         note="no autoStorage: the emulated accounts have no linked storage account"),
    Case(f"{BATCH_ARM}/BatchAccountListByResourceGroup.json", "GET",
         "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Batch/batchAccounts",
         {"api-version": "2024-07-01"}, 200, {"value": [BATCH_ACCOUNT_SHAPE]}),
    Case(f"{BATCH_ARM}/BatchAccountList.json", "GET", "/subscriptions/{subscription}/providers/Microsoft.Batch/batchAccounts",
         {"api-version": "2024-07-01"}, 200, {"value": [BATCH_ACCOUNT_SHAPE]}),
    Case(f"{BATCH_ARM}/BatchAccountGetKeys.json", "POST",
         "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Batch/batchAccounts/{account}/listKeys",
         {"api-version": "2024-07-01"}, 200, {"accountName": str, "primary": str, "secondary": str}),
    Case(f"{COMPUTE}/2026-03-03/examples/galleryExamples/GalleryImageVersion_Create.json", "PUT",
         "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Compute/galleries/{gallery}/images/"
         "replay/versions/1.0.0", {"api-version": "2026-03-03"}, 201, VERSION_SHAPE, body=VERSION_BODY,
         headers=(*ARM_HEADERS, "Azure-AsyncOperation"),
         note="from snapshots rather than a managed image; no disk encryption sets (not emulated)"),
    Case(f"{COMPUTE}/2026-03-03/examples/galleryExamples/GalleryImageVersion_Get.json", "GET",
         "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Compute/galleries/{gallery}/images/"
         "replay/versions/1.0.0", {"api-version": "2026-03-03"}, 200, VERSION_SHAPE),
    Case(f"{BATCH}/Pools_GetPool_Basic.json", "GET", "/pools/{pool}", {"api-version": "2025-06-01"}, 200, POOL_SHAPE,
         headers=("ETag", "Last-Modified", *BATCH_HEADERS), service="batch"),
    Case(f"{BATCH}/Pools_ResizePool.json", "POST", "/pools/{pool}/resize", {"api-version": "2025-06-01"}, 202,
         body={"targetDedicatedNodes": 2, "targetLowPriorityNodes": 0}, headers=CHANGED, service="batch"),
    Case(f"{BATCH}/Pools_StopPoolResize.json", "POST", "/pools/{pool}/stopresize", {"api-version": "2025-06-01"}, 202,
         headers=CHANGED, service="batch"),
    Case(f"{BATCH}/Pools_ListSupportedImages.json", "GET", "/supportedimages", {"api-version": "2025-06-01"}, 200,
         {"value": [{"nodeAgentSKUId": str, "imageReference": {"publisher": str, "offer": str, "sku": str, "version": str},
                     "capabilities": list, "verificationType": str, "osType": str}]}, headers=BATCH_HEADERS,
         service="batch"),
    Case(f"{BATCH}/Pools_ListPoolNodeCounts.json", "GET", "/nodecounts", {"api-version": "2025-06-01"}, 200,
         {"value": [{"poolId": str, "dedicated": {"idle": int, "running": int, "total": int},
                     "lowPriority": {"idle": int, "total": int}}]}, headers=BATCH_HEADERS, service="batch"),
]  # fmt: skip
