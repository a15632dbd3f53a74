"""The api-versions each ARM resource type accepts, and the errors ARM gives for any other.

ARM routes a request by the resource type its path names (``providers/{namespace}/{type}/{name}/...``)
and refuses an api-version the type never had: 400 ``NoRegisteredProviderFound`` for a resource
provider's types ("No registered resource provider found for location '...' and API version '...' for
type '...'. The supported api-versions are '...'."), 400 ``InvalidApiVersionParameter`` for ARM's own
(resource groups, subscriptions, tenants, locations): "The api-version '...' is invalid. The supported
versions are '...'.". Both messages are ARM's, as deployment logs quote them.

Sources: the stable api-versions of each resource provider in Azure/azure-rest-api-specs (the folders
``stable/{version}`` of ComputeRP, DiskRP, GalleryRP, Skus, network and Microsoft.Batch), the versions
the SDKs send (azure-mgmt-compute 39, azure-mgmt-batch 19, azure-mgmt-resource-subscriptions 1.0, the
Azure CLI's), and for ARM's own types the list ARM prints in its InvalidApiVersionParameter message.
Preview versions are not listed.
"""

from __future__ import annotations

from azure_emulator.errors import AzureError

COMPUTE = (
    "2015-06-15", "2016-03-30", "2016-08-30", "2017-03-30", "2017-12-01", "2018-04-01", "2018-06-01",
    "2018-10-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-06-01", "2020-12-01", "2021-03-01",
    "2021-04-01", "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01", "2022-11-01", "2023-03-01",
    "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01", "2026-04-01",
)  # fmt: skip
DISKS = (
    "2016-04-30-preview", "2017-03-30", "2018-04-01", "2018-06-01", "2018-09-30", "2019-03-01", "2019-07-01",
    "2019-11-01", "2020-05-01", "2020-06-30", "2020-09-30", "2020-12-01", "2021-04-01", "2021-08-01",
    "2021-12-01", "2022-03-02", "2022-07-02", "2023-01-02", "2023-04-02", "2023-10-02", "2024-03-02",
    "2025-01-02", "2026-03-02",
)  # fmt: skip
GALLERIES = (
    "2018-06-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-09-30", "2021-07-01", "2021-10-01",
    "2022-01-03", "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03", "2025-03-03", "2026-03-03",
)  # fmt: skip
RESOURCE_SKUS = ("2017-03-30", "2017-09-01", "2019-04-01", "2021-07-01")
NETWORK = (
    "2015-06-15", "2016-03-30", "2016-06-01", "2016-07-01", "2016-08-01", "2016-09-01", "2016-10-01",
    "2016-11-01", "2016-12-01", "2017-03-01", "2017-04-01", "2017-06-01", "2017-08-01", "2017-09-01",
    "2017-10-01", "2017-11-01", "2018-01-01", "2018-02-01", "2018-04-01", "2018-06-01", "2018-07-01",
    "2018-08-01", "2018-10-01", "2018-11-01", "2018-12-01", "2019-02-01", "2019-04-01", "2019-06-01",
    "2019-07-01", "2019-08-01", "2019-09-01", "2019-11-01", "2019-12-01", "2020-03-01", "2020-04-01",
    "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01", "2021-02-01", "2021-03-01",
    "2021-05-01", "2021-08-01", "2022-01-01", "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01",
    "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01",
    "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-03-01", "2025-05-01",
)  # fmt: skip
BATCH = (
    "2015-12-01", "2017-01-01", "2017-05-01", "2017-09-01", "2018-12-01", "2019-04-01", "2019-08-01",
    "2020-03-01", "2020-05-01", "2020-09-01", "2021-01-01", "2021-06-01", "2022-01-01", "2022-06-01",
    "2022-10-01", "2023-05-01", "2023-11-01", "2024-02-01", "2024-07-01", "2025-06-01",
)  # fmt: skip
# ARM's own types, as its InvalidApiVersionParameter message lists them (its order kept: newest first, with
# the oldest out of order at the end).
RESOURCES = (
    "2025-04-01", "2025-03-01", "2024-11-01", "2024-08-01", "2024-07-01", "2024-03-01", "2023-07-01",
    "2022-12-01", "2022-09-01", "2022-06-01", "2022-05-01", "2022-01-01", "2021-04-01", "2021-01-01",
    "2020-10-01", "2020-09-01", "2020-08-01", "2020-07-01", "2020-06-01", "2020-05-01", "2020-01-01",
    "2019-11-01", "2019-10-01", "2019-09-01", "2019-08-01", "2019-07-01", "2019-06-01", "2019-05-10",
    "2019-05-01", "2019-03-01", "2018-11-01", "2018-09-01", "2018-08-01", "2018-07-01", "2018-06-01",
    "2018-05-01", "2018-02-01", "2018-01-01", "2017-12-01", "2017-08-01", "2017-06-01", "2017-05-10",
    "2017-05-01", "2017-03-01", "2016-09-01", "2016-07-01", "2016-06-01", "2016-02-01", "2015-11-01",
    "2015-01-01", "2014-04-01-preview", "2014-04-01", "2014-01-01", "2013-03-01", "2014-02-26", "2014-04",
)  # fmt: skip

# (namespace, type path) -> accepted versions; the longest type path that starts the request's wins.
ACCEPTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("microsoft.compute", "virtualmachines"): COMPUTE,
    ("microsoft.compute", "images"): COMPUTE,
    ("microsoft.compute", "locations"): COMPUTE,
    ("microsoft.compute", "locations/diskoperations"): DISKS,
    ("microsoft.compute", "locations/capsoperations"): GALLERIES,
    ("microsoft.compute", "disks"): DISKS,
    ("microsoft.compute", "snapshots"): DISKS,
    ("microsoft.compute", "galleries"): GALLERIES,
    ("microsoft.compute", "skus"): RESOURCE_SKUS,
    ("microsoft.network", ""): NETWORK,
    ("microsoft.batch", ""): BATCH,
    ("microsoft.resources", ""): RESOURCES,
}


def resource_type(path: str) -> tuple[str, str]:
    """(namespace, type path) a request path names: ``providers/{ns}/{type}/{name}/{subtype}...`` gives
    (ns, "type/subtype"); a path outside any provider is ARM's own (Microsoft.Resources).
    """
    segments = [s for s in path.strip("/").split("/") if s]
    lowered = [s.lower() for s in segments]
    if "providers" in lowered:
        at = len(lowered) - 1 - lowered[::-1].index("providers")
        if at + 1 < len(segments):
            return segments[at + 1], "/".join(segments[at + 2 :: 2])
    return "Microsoft.Resources", "/".join(segments[::2][1:] if len(segments) > 1 else segments)


def accepted(namespace: str, type_path: str) -> tuple[str, ...] | None:
    wanted = type_path.lower()
    candidates = [
        (len(path), versions)
        for (ns, path), versions in ACCEPTED.items()
        if ns == namespace.lower() and (wanted == path or wanted.startswith(path + "/") or not path)
    ]
    return max(candidates)[1] if candidates else None


def check(path: str, version: str, location: str) -> None:
    """Refuse ``version`` if the type ``path`` names never had it, in the words ARM uses."""
    namespace, type_path = resource_type(path)
    versions = accepted(namespace, type_path)
    if versions is None or version in versions:
        return
    if namespace.lower() == "microsoft.resources":
        raise AzureError(
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{','.join(versions)}'.",
        )
    short_type = type_path.split("/")[0] if type_path else namespace
    raise AzureError(
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{version}' for type "
        f"'{short_type}'. The supported api-versions are '{', '.join(reversed(versions))}'.",
    )
