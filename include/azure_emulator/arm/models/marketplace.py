"""Marketplace (platform) images: publishers, offers, SKUs and versions from the catalogue.

Azure compares image versions as dotted numbers (``22.04.202411010``), so ``latest`` is the
highest version by numeric comparison of each part, never the last one listed or the longest.
"""

from __future__ import annotations

import re

from azure_emulator import catalogue

VERSION = re.compile(r"^\d+\.\d+\.\d+$")
LINUX_OS_NAMES = {"canonical": "ubuntu", "almalinux": "almalinux"}


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def latest(image: dict) -> str:
    return max(image["versions"], key=version_key)


def resolve(image: dict, version: str | None) -> str | None:
    """The concrete version ``version`` names in ``image`` (``latest`` is the highest), or None."""
    if not version or version.lower() == "latest":
        return latest(image)
    return next((v for v in image["versions"] if v == version), None)


def _first_of_each(images: list[dict], field: str) -> list[dict]:
    """One image per distinct ``field`` value (names as Azure spells them), sorted by that value."""
    found: dict[str, dict] = {}
    for image in images:
        found.setdefault(image[field].lower(), image)
    return [found[k] for k in sorted(found)]


def publishers(backend) -> list[dict]:
    return _first_of_each(catalogue.images(backend), "publisher")


def offers(backend, publisher: str) -> list[dict]:
    return _first_of_each(
        [i for i in catalogue.images(backend) if i["publisher"].lower() == publisher.lower()], "offer"
    )


def skus(backend, publisher: str, offer: str) -> list[dict]:
    return _first_of_each(
        [
            i
            for i in catalogue.images(backend)
            if i["publisher"].lower() == publisher.lower() and i["offer"].lower() == offer.lower()
        ],
        "sku",
    )


def versions(image: dict, *, newest_first: bool = False, top: int | None = None) -> list[str]:
    ordered = sorted(image["versions"], key=version_key, reverse=newest_first)
    return ordered[:top] if top is not None else ordered


def image_id(subscription: str, location: str, image: dict, *parts: str) -> str:
    """The id Azure gives platform images (capitalised ``/Subscriptions/../Providers/..`` as the service does)."""
    path = (
        f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{location}/Publishers/"
        f"{image['publisher']}"
    )
    names = ("ArtifactTypes/VMImage/Offers", "Skus", "Versions")
    for name, value in zip(names, parts):
        path += f"/{name}/{value}"
    return path


def properties(image: dict) -> dict:
    """``properties`` of a platform image version (VirtualMachineImage). Beyond the REST spec's ``osDiskImage``
    (``operatingSystem`` only), the service reports the disk's size, as ``az vm image show`` prints it.
    """
    size_gb = catalogue.os_disk_gb(image)
    features = [{"name": "IsAcceleratedNetworkSupported", "value": "True"}]
    if trusted_launch_supported(image):
        features.append({"name": "SecurityType", "value": "TrustedLaunchSupported"})
    found = {
        "hyperVGeneration": image["hyperVGeneration"],
        "architecture": catalogue.architecture(image),
        "replicaType": "Unmanaged",
        "disallowed": {"vmDiskType": "None"},
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
        "imageDeprecationStatus": {"imageState": "Active"},
        "features": features,
        "osDiskImage": {"operatingSystem": image["osType"], "sizeInBytes": size_gb * 1024**3, "sizeInGb": size_gb},
        "dataDiskImages": [],
    }
    plan = catalogue.purchase_plan(image)
    if plan:
        found["plan"] = plan
    return found


def trusted_launch_supported(image: dict) -> bool:
    return image["hyperVGeneration"] == "V2" and catalogue.architecture(image) == "x64"


def os_name_and_version(image: dict, version: str) -> tuple[str, str]:
    """What the guest agent reports in the instance view (``osName``, ``osVersion``)."""
    parts = version.split(".")
    if image["osType"] == "Windows":
        year = re.search(r"\d{4}", image["sku"])
        name = f"Windows Server {year.group(0)} Datacenter" if year else "Windows Server Datacenter"
        return name, f"10.0.{parts[0]}"
    return LINUX_OS_NAMES.get(image["publisher"].lower(), image["offer"]), ".".join(parts[:2])
