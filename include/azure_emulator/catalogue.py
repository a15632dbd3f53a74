"""Reference data the emulated cloud serves: Marketplace images that Batch supports, with their
Batch node agent SKUs, and VM sizes with their core counts (for core quotas and Gen2 support).

Marketplace versions can be added at run time (a new base image release) through the control
endpoint; they are stored, so ``latest`` moves forward and stays there across restarts.
"""

from __future__ import annotations

MARKETPLACE_KIND = "catalogue/marketplaceVersions"

# publisher, offer, sku, os type, Hyper-V generation, Batch node agent SKU, versions (oldest first)
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

NODE_AGENT_SKUS: dict[str, str] = {image["nodeAgentSKUId"]: image["osType"] for image in IMAGES}

# name, cores, memory GiB, Hyper-V generations, Trusted Launch capable
_SIZES = [
    ("Standard_A2_v2", 2, 4, ("V1",), False),
    ("Standard_B2s", 2, 4, ("V1", "V2"), True),
    ("Standard_D2s_v3", 2, 8, ("V1", "V2"), True),
    ("Standard_D4s_v3", 4, 16, ("V1", "V2"), True),
    ("Standard_D8s_v3", 8, 32, ("V1", "V2"), True),
    ("Standard_D2s_v5", 2, 8, ("V1", "V2"), True),
    ("Standard_D4s_v5", 4, 16, ("V1", "V2"), True),
    ("Standard_D8s_v5", 8, 32, ("V1", "V2"), True),
    ("Standard_D16s_v5", 16, 64, ("V1", "V2"), True),
    ("Standard_D2ds_v5", 2, 8, ("V1", "V2"), True),
    ("Standard_D4ds_v5", 4, 16, ("V1", "V2"), True),
    ("Standard_E4s_v5", 4, 32, ("V1", "V2"), True),
    ("Standard_F4s_v2", 4, 8, ("V1", "V2"), True),
    ("Standard_F8s_v2", 8, 16, ("V1", "V2"), True),
    ("Standard_HB120rs_v3", 120, 448, ("V1", "V2"), False),
    ("Standard_NC6s_v3", 6, 112, ("V1", "V2"), False),
]
VM_SIZES: dict[str, dict] = {
    name.lower(): {
        "name": name,
        "cores": cores,
        "memoryGB": memory,
        "hyperVGenerations": list(gens),
        "trustedLaunch": trusted,
        "maxDataDiskCount": max(4, cores * 2),
    }
    for name, cores, memory, gens, trusted in _SIZES
}


def vm_size(name: str | None) -> dict | None:
    """The size named (any case), or None if Azure has no such size here."""
    return VM_SIZES.get((name or "").lower())


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
    return find_image(backend, publisher, offer, sku)
