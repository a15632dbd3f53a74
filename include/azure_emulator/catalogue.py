"""Reference data the emulated cloud serves, in one place: Marketplace images (with the Batch node agent
SKU of those Batch supports), VM sizes (Resource SKUs: capabilities, the regions and zones that offer
them), and compute quotas (Usage). Regions live in :mod:`azure_emulator.regions`.

Every figure's source is recorded in docs/emulator.md ("The catalogue"); estimates are marked there and
in the comments below.

Variants for tests and demos are added at run time through the control endpoint and kept in the store,
so a reset forgets them: Marketplace versions (a new base image release; ``latest`` moves forward), a
size restricted or not offered in a region or zone, a changed capability, a quota limit or usage.
"""

from __future__ import annotations

from dataclasses import dataclass

from azure_emulator import regions

MARKETPLACE_KIND = "catalogue/marketplaceVersions"
SKU_VARIANTS = "catalogue/skus"
USAGE_VARIANTS = "catalogue/usages"

# --- Marketplace images ---------------------------------------------------------------------------------

# publisher, offer, sku, OS, Hyper-V generation, architecture, OS disk size in bytes, Batch node agent SKU
# (None: Batch does not support the image), purchase plan, versions (oldest first).
IMAGES: list[dict] = [
    {
        "publisher": "Canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts",
        "osType": "Linux",
        "hyperVGeneration": "V1",
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        "versions": ["22.04.202409120", "22.04.202410020", "22.04.202411010"],
    },
    {
        "publisher": "Canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts-gen2",
        "osType": "Linux",
        "hyperVGeneration": "V2",
        "nodeAgentSKUId": "batch.node.ubuntu 22.04",
        "versions": ["22.04.202409120", "22.04.202410020", "22.04.202411010"],
    },
    {
        "publisher": "Canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts-arm64",
        "osType": "Linux",
        "hyperVGeneration": "V2",
        "architecture": "Arm64",
        "nodeAgentSKUId": None,
        "versions": ["22.04.202410020", "22.04.202411010"],
    },
    {
        "publisher": "Canonical",
        "offer": "ubuntu-24_04-lts",
        "sku": "server",
        "osType": "Linux",
        "hyperVGeneration": "V2",
        "nodeAgentSKUId": "batch.node.ubuntu 24.04",
        "versions": ["24.04.202410030", "24.04.202411030"],
    },
    {
        "publisher": "Canonical",
        "offer": "ubuntu-24_04-lts",
        "sku": "server-gen1",
        "osType": "Linux",
        "hyperVGeneration": "V1",
        "nodeAgentSKUId": "batch.node.ubuntu 24.04",
        "versions": ["24.04.202410030", "24.04.202411030"],
    },
    {
        "publisher": "almalinux",
        "offer": "almalinux-x86_64",
        "sku": "9-gen2",
        "osType": "Linux",
        "hyperVGeneration": "V2",
        "nodeAgentSKUId": "batch.node.el 9",
        "versions": ["9.4.2024080501", "9.5.2024111301"],
    },
    {
        # A Marketplace image with purchase terms: a VM needs its plan, and Batch cannot use it.
        "publisher": "center-for-internet-security-inc",
        "offer": "cis-ubuntu-linux-2204-l1",
        "sku": "cis-ubuntu22.04-l1-gen2",
        "osType": "Linux",
        "hyperVGeneration": "V2",
        "nodeAgentSKUId": None,
        "plan": True,
        "versions": ["1.0.10", "1.0.12"],
    },
    {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2022-datacenter-g2",
        "osType": "Windows",
        "hyperVGeneration": "V2",
        "nodeAgentSKUId": "batch.node.windows amd64",
        "versions": ["20348.2762.241006", "20348.2849.241109"],
    },
    {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2022-datacenter",
        "osType": "Windows",
        "hyperVGeneration": "V1",
        "nodeAgentSKUId": "batch.node.windows amd64",
        "versions": ["20348.2762.241006", "20348.2849.241109"],
    },
    {
        "publisher": "MicrosoftWindowsServer",
        "offer": "WindowsServer",
        "sku": "2019-datacenter",
        "osType": "Windows",
        "hyperVGeneration": "V1",
        "nodeAgentSKUId": "batch.node.windows amd64",
        "versions": ["17763.6293.240905", "17763.6414.241004"],
    },
]

# The OS disk of Marketplace images: Ubuntu and AlmaLinux 30 GiB, Windows Server 127 GiB (the sizes Azure
# names when an explicit OS disk is smaller: "...the corresponding disk in the VM image: 30 GB").
OS_DISK_GB = {"Linux": 30, "Windows": 127}

NODE_AGENT_SKUS: dict[str, str] = {i["nodeAgentSKUId"]: i["osType"] for i in IMAGES if i["nodeAgentSKUId"]}


def architecture(image: dict) -> str:
    return image.get("architecture", "x64")


def os_disk_gb(image: dict) -> int:
    return OS_DISK_GB[image["osType"]]


def purchase_plan(image: dict) -> dict | None:
    """The plan a VM from ``image`` must name: Azure's plan name is the SKU, its product the offer."""
    if not image.get("plan"):
        return None
    return {"name": image["sku"], "product": image["offer"], "publisher": image["publisher"]}


def _added_versions(backend) -> dict[str, list[str]]:
    return {key: doc["versions"] for key, doc in backend.store.items(MARKETPLACE_KIND)}


def _key(publisher: str, offer: str, sku: str) -> str:
    return f"{publisher}/{offer}/{sku}".lower()


def images(backend) -> list[dict]:
    """Every Marketplace image, its versions including any published at run time, oldest first."""
    added = _added_versions(backend)
    result = []
    for image in IMAGES:
        extra = added.get(_key(image["publisher"], image["offer"], image["sku"]), [])
        result.append(dict(image, versions=image["versions"] + [v for v in extra if v not in image["versions"]]))
    return result


def batch_images(backend) -> list[dict]:
    """The Marketplace images Batch supports (those with a node agent SKU)."""
    return [image for image in images(backend) if image["nodeAgentSKUId"]]


def find_image(backend, publisher: str, offer: str, sku: str) -> dict | None:
    wanted = _key(publisher or "", offer or "", sku or "")
    return next((i for i in images(backend) if _key(i["publisher"], i["offer"], i["sku"]) == wanted), None)


def publish_version(backend, publisher: str, offer: str, sku: str, version: str) -> dict:
    """Add a Marketplace version (a new release of a base image); it becomes ``latest``."""
    image = find_image(backend, publisher, offer, sku)
    if image is None:
        raise KeyError(f"no Marketplace image {publisher}:{offer}:{sku}")
    key = _key(publisher, offer, sku)
    stored = backend.store.get(MARKETPLACE_KIND, key) or {"versions": []}
    if version not in image["versions"]:
        stored["versions"].append(version)
        backend.store.put(MARKETPLACE_KIND, key, stored)
    return dict(image, versions=image["versions"] + [v for v in stored["versions"] if v not in image["versions"]])


# --- VM sizes (Resource SKUs) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VmSize:
    """A VM size as Resource SKUs describes it. Figures from each series' page in the Azure docs."""

    name: str
    family: str  # the quota family (Usage - List, Batch per-family quotas)
    cores: int
    memory_gb: float
    max_data_disks: int
    generations: tuple[str, ...] = ("V1", "V2")
    architecture: str = "x64"
    premium_io: bool = True
    temp_disk_gb: int = 0
    max_nics: int = 2
    accelerated_networking: bool = True
    trusted_launch: bool = True
    rdma: bool = False
    # Regions offering it (any cloud); None: every physical region of every cloud the emulator plays.
    only_in: tuple[str, ...] | None = None

    @property
    def tier_and_size(self) -> tuple[str, str]:
        tier, _, size = self.name.partition("_")
        return tier, size

    def as_dict(self) -> dict:
        """The shape the emulator's models read (``cores``, ``hyperVGenerations``, ``maxDataDiskCount``...)."""
        return {
            "name": self.name,
            "family": self.family,
            "cores": self.cores,
            "memoryGB": self.memory_gb,
            "hyperVGenerations": list(self.generations),
            "trustedLaunch": self.trusted_launch,
            "maxDataDiskCount": self.max_data_disks,
            "architecture": self.architecture,
            "premiumIO": self.premium_io,
        }


# HB and NC sizes are offered in a handful of regions (estimate: the regions their docs and the pricing
# page list at the time of writing); every other size everywhere.
HPC_REGIONS = ("eastus", "southcentralus", "westus2", "westus3", "westeurope", "northeurope", "swedencentral")
GPU_REGIONS = ("eastus", "eastus2", "southcentralus", "westus2", "westeurope", "northeurope", "japaneast")

SIZES: tuple[VmSize, ...] = (
    VmSize("Standard_A2_v2", "standardAv2Family", 2, 4, 4, ("V1",), premium_io=False, temp_disk_gb=20,
           accelerated_networking=False, trusted_launch=False),
    VmSize("Standard_B2s", "standardBSFamily", 2, 4, 4, temp_disk_gb=8, max_nics=3, accelerated_networking=False),
    VmSize("Standard_D2s_v3", "standardDSv3Family", 2, 8, 4, temp_disk_gb=16),
    VmSize("Standard_D4s_v3", "standardDSv3Family", 4, 16, 8, temp_disk_gb=32),
    VmSize("Standard_D8s_v3", "standardDSv3Family", 8, 32, 16, temp_disk_gb=64, max_nics=4),
    VmSize("Standard_D2s_v5", "standardDSv5Family", 2, 8, 4),
    VmSize("Standard_D4s_v5", "standardDSv5Family", 4, 16, 8),
    VmSize("Standard_D8s_v5", "standardDSv5Family", 8, 32, 16, max_nics=4),
    VmSize("Standard_D16s_v5", "standardDSv5Family", 16, 64, 32, max_nics=8),
    VmSize("Standard_D4_v5", "standardDv5Family", 4, 16, 8, premium_io=False),
    VmSize("Standard_D2ds_v5", "standardDDSv5Family", 2, 8, 4, temp_disk_gb=75),
    VmSize("Standard_D4ds_v5", "standardDDSv5Family", 4, 16, 8, temp_disk_gb=150),
    VmSize("Standard_D2s_v6", "standardDSv6Family", 2, 8, 8, ("V2",)),
    VmSize("Standard_D2ps_v5", "standardDPSv5Family", 2, 8, 4, ("V2",), architecture="Arm64", trusted_launch=False),
    VmSize("Standard_D4ps_v5", "standardDPSv5Family", 4, 16, 8, ("V2",), architecture="Arm64", trusted_launch=False),
    VmSize("Standard_E4s_v5", "standardESv5Family", 4, 32, 8),
    VmSize("Standard_F4s_v2", "standardFSv2Family", 4, 8, 8, temp_disk_gb=32),
    VmSize("Standard_F8s_v2", "standardFSv2Family", 8, 16, 16, temp_disk_gb=64, max_nics=4),
    VmSize("Standard_HB120rs_v3", "standardHBrsv3Family", 120, 448, 32, temp_disk_gb=480, max_nics=8,
           trusted_launch=False, rdma=True, only_in=HPC_REGIONS),
    VmSize("Standard_NC6s_v3", "standardNCSv3Family", 6, 112, 12, temp_disk_gb=736, max_nics=4,
           trusted_launch=False, only_in=GPU_REGIONS),
)  # fmt: skip
VM_SIZES: dict[str, VmSize] = {size.name.lower(): size for size in SIZES}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(size.family for size in SIZES))


def vm_size(name: str | None) -> dict | None:
    """The size named (any case) as the models read it, or None if Azure has no such size."""
    found = VM_SIZES.get((name or "").lower())
    return found.as_dict() if found else None


def _bool(value: bool) -> str:
    return "True" if value else "False"


def capabilities(size: VmSize) -> dict[str, str]:
    """The capabilities Resource SKUs lists for a VM size (names and string values as Azure gives them)."""
    found = {
        "MaxResourceVolumeMB": str(size.temp_disk_gb * 1024),
        "OSVhdSizeMB": "1047552",
        "vCPUs": str(size.cores),
        "MemoryPreservingMaintenanceSupported": "True",
        "HyperVGenerations": ",".join(size.generations),
        "MemoryGB": f"{size.memory_gb:g}",
        "MaxDataDiskCount": str(size.max_data_disks),
        "CpuArchitectureType": size.architecture,
        "LowPriorityCapable": "True",
        "PremiumIO": _bool(size.premium_io),
        "VMDeploymentTypes": "IaaS",
        "vCPUsAvailable": str(size.cores),
        "vCPUsPerCore": "1" if size.architecture == "Arm64" or size.cores == 1 else "2",
        "EphemeralOSDiskSupported": _bool(size.temp_disk_gb > 0 and size.premium_io),
        "EncryptionAtHostSupported": _bool(size.premium_io),
        "CapacityReservationSupported": "True",
        "AcceleratedNetworkingEnabled": _bool(size.accelerated_networking),
        "RdmaEnabled": _bool(size.rdma),
        "MaxNetworkInterfaces": str(size.max_nics),
    }
    if not size.trusted_launch:
        found["TrustedLaunchDisabled"] = "True"
    return found


def _sku_variant(backend, location: str, name: str) -> dict:
    return backend.store.get(SKU_VARIANTS, f"{location}/{name}") or {}


def set_sku_variant(backend, location: str, name: str, changes: dict) -> None:
    key = f"{location}/{name}"
    backend.store.put(SKU_VARIANTS, key, dict(backend.store.get(SKU_VARIANTS, key) or {}, **changes))


def offered(size: VmSize, region: regions.Region, variant: dict) -> bool:
    if variant.get("offered") is not None:
        return bool(variant["offered"])
    return not region.logical and (size.only_in is None or region.name in size.only_in)


def _zones(region: regions.Region, variant: dict) -> list[str]:
    if variant.get("zones") is not None:
        return list(variant["zones"])
    return ["1", "2", "3"] if region.zones else []


def _restrictions(size_zones: list[str], region: regions.Region, variant: dict) -> list[dict]:
    found = []
    if region.restricted or variant.get("restricted"):
        found.append(
            {
                "type": "Location",
                "values": [region.name],
                "restrictionInfo": {"locations": [region.name]},
                "reasonCode": "NotAvailableForSubscription",
            }
        )
    restricted_zones = [z for z in variant.get("restricted_zones") or [] if z in size_zones]
    if restricted_zones:
        found.append(
            {
                "type": "Zone",
                "values": [region.name],
                "restrictionInfo": {"locations": [region.name], "zones": restricted_zones},
                "reasonCode": "NotAvailableForSubscription",
            }
        )
    return found


def sku_document(backend, size: VmSize, region: regions.Region) -> dict | None:
    """The Resource SKUs entry of ``size`` in ``region`` (None if the region does not offer it)."""
    variant = _sku_variant(backend, region.name, size.name.lower())
    if not offered(size, region, variant):
        return None
    zones = _zones(region, variant)
    tier, short = size.tier_and_size
    return {
        "resourceType": "virtualMachines",
        "name": size.name,
        "tier": tier,
        "size": short,
        "family": size.family,
        "locations": [region.name],
        "locationInfo": [{"location": region.name, "zones": zones, "zoneDetails": []}],
        "capabilities": [
            {"name": k, "value": v} for k, v in {**capabilities(size), **variant.get("capabilities", {})}.items()
        ],
        "restrictions": _restrictions(zones, region, variant),
    }


def skus(backend, location: str | None = None) -> list[dict]:
    """Resource SKUs of the cloud's regions (one entry per size and region), or of one region."""
    found = []
    for region in regions.all_regions(backend):
        if location is not None and region.name != location:
            continue
        for size in SIZES:
            doc = sku_document(backend, size, region)
            if doc is not None:
                found.append(doc)
    return found


def usable(backend, location: str, name: str) -> bool:
    """Whether a VM of size ``name`` can be made in ``location`` now: offered there, and not restricted."""
    size = VM_SIZES.get(name.lower())
    region = regions.find(backend, location)
    sku = sku_document(backend, size, region) if size and region else None
    return sku is not None and not any(r["type"] == "Location" for r in sku["restrictions"])


# --- compute quotas (Usage) -----------------------------------------------------------------------------

# Default limits of a pay-as-you-go subscription (estimate: Azure raises them per subscription on request).
REGIONAL_CORES = 100
FAMILY_CORES = 100
LIMITS = {"availabilitySets": 2500, "virtualMachines": 25000, "virtualMachineScaleSets": 2500, "lowPriorityCores": 100}
LOCALIZED = {
    "availabilitySets": "Availability Sets",
    "cores": "Total Regional vCPUs",
    "virtualMachines": "Virtual Machines",
    "virtualMachineScaleSets": "Virtual Machine Scale Sets",
    "lowPriorityCores": "Total Regional Low-priority vCPUs",
}


def family_display(family: str) -> str:
    """``standardDSv5Family`` -> ``Standard DSv5 Family vCPUs``, as Usage - List names it."""
    return f"Standard {family.removeprefix('standard').removesuffix('Family')} Family vCPUs"


def set_usage_variant(backend, location: str, name: str, changes: dict) -> None:
    key = f"{location}/{name.lower()}"
    backend.store.put(USAGE_VARIANTS, key, dict(backend.store.get(USAGE_VARIANTS, key) or {}, **changes))


def usages(backend, location: str, vms: list[dict]) -> list[dict]:
    """Usage - List for ``location``: every quota with its limit and what ``vms`` (the region's VMs, running or
    deallocated: both hold their cores) use, plus any usage set through the control endpoint.
    """
    in_use: dict[str, int] = {"cores": 0, "virtualMachines": len(vms)}
    for vm in vms:
        size = VM_SIZES.get(vm["properties"]["hardwareProfile"]["vmSize"].lower())
        if size:
            in_use["cores"] += size.cores
            in_use[size.family] = in_use.get(size.family, 0) + size.cores
    limits = {"cores": REGIONAL_CORES, **LIMITS, **dict.fromkeys(FAMILIES, FAMILY_CORES)}
    found = []
    for name, limit in limits.items():
        variant = backend.store.get(USAGE_VARIANTS, f"{location}/{name.lower()}") or {}
        found.append(
            {
                "unit": "Count",
                "currentValue": in_use.get(name, 0) + int(variant.get("used", 0)),
                "limit": int(variant.get("limit", limit)),
                "name": {"value": name, "localizedValue": LOCALIZED.get(name) or family_display(name)},
            }
        )
    return found
