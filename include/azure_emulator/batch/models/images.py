"""The image a pool's nodes boot: a Batch-supported Marketplace image or a Compute Gallery image.

``resolve`` applies Batch's rules to ``virtualMachineConfiguration`` before a pool exists and returns
what the allocation model needs to know about the image (OS, generation, replicas in the account's
region). Gallery images are looked up through the gallery model, so a pool sees exactly what ARM
serves: a version that is not replicated to the Batch account's region cannot be used.
"""

from __future__ import annotations

import re

from azure_emulator import catalogue
from azure_emulator.arm.models.galleryimageversions import pool_image_info
from azure_emulator.errors import AzureError, batch_invalid_property, batch_missing_property

GALLERY_IMAGE = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/[^/]+/providers/"
    r"Microsoft\.Compute/galleries/[^/]+/images/[^/]+(/versions/[^/]+)?$",
    re.IGNORECASE,
)
SECURITY_TYPES = {"trustedlaunch": "trustedLaunch", "confidentialvm": "confidentialvm"}
# Gallery definitions that only run on VMs with this Batch security type.
REQUIRED_SECURITY = {"TrustedLaunch": "trustedLaunch", "ConfidentialVM": "confidentialvm"}

SHARED_KEY_REFUSED = (
    "The specified type of authentication SharedKey is not allowed when external resources of type Compute are linked."
)


def shared_key_refused() -> AzureError:
    return AzureError(
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of "
        "Authorization header is formed correctly including the signature.",
        status=403,
        values=[("AuthenticationErrorDetail", SHARED_KEY_REFUSED)],
    )


def uses_compute_resource(config: dict | None) -> bool:
    """Whether the pool links a Compute resource (a gallery image), which SharedKey callers may not do."""
    return bool(((config or {}).get("imageReference") or {}).get("virtualMachineImageId"))


def resolve(backend, *, region: str, vm_size: dict, config: dict | None) -> dict:
    """Check ``virtualMachineConfiguration`` against the image and the VM size; describe the image."""
    if config is None:
        raise batch_missing_property("virtualMachineConfiguration")
    reference = config.get("imageReference") or {}
    if not reference:
        raise batch_missing_property("imageReference")
    if reference.get("virtualMachineImageId"):
        image = _gallery(backend, reference, region)
    else:
        image = _marketplace(backend, reference)
    _check_node_agent(config.get("nodeAgentSKUId"), image)
    _check_security(config.get("securityProfile") or {}, image, vm_size)
    return image


def replicas_in(backend, image: dict, region: str) -> tuple[int | None, str | None]:
    """(replica count in ``region``, None) for the image as it is now, or (None, why nodes cannot boot it).

    Marketplace images have no replica limit (None); a gallery image can lose a region or be deleted
    while its pool lives, and then new nodes cannot be allocated.
    """
    if image["source"] != "gallery":
        return None, None
    info = pool_image_info(backend, image["imageId"], region)
    if info is None:
        return None, f"The image '{image['imageId']}' does not exist."
    if not info["replicated"]:
        return None, f"The image '{image['imageId']}' is not replicated to region '{region}'."
    return max(1, int(info["replica_count"])), None


def _marketplace(backend, reference: dict) -> dict:
    for part in ("publisher", "offer", "sku"):
        if not reference.get(part):
            raise batch_missing_property(f"imageReference.{part}")
    found = catalogue.find_image(backend, reference["publisher"], reference["offer"], reference["sku"])
    if found is None or not found["nodeAgentSKUId"]:
        raise batch_invalid_property(
            "imageReference",
            f"The Marketplace image '{reference['publisher']}:"
            f"{reference['offer']}:{reference['sku']}' is not supported by Azure Batch.",
        )
    version = reference.get("version") or "latest"
    if version.lower() == "latest":
        version = found["versions"][-1]
    elif version not in found["versions"]:
        raise batch_invalid_property(
            "imageReference.version",
            f"The version '{version}' of the Marketplace image "
            f"'{found['publisher']}:{found['offer']}:{found['sku']}' does not exist.",
        )
    return {
        "source": "marketplace",
        "osType": found["osType"],
        "hyperVGeneration": found["hyperVGeneration"],
        "securityType": None,
        "exactVersion": version,
        "imageId": None,
    }


def _gallery(backend, reference: dict, region: str) -> dict:
    if reference.get("version"):
        raise AzureError(
            "InvalidPropertyValue",
            "The value provided for one of the properties in the request body is invalid.",
            values=[
                ("PropertyName", "version"),
                ("PropertyPath", "virtualMachineConfiguration.imageReference.version"),
                ("Reason", "Specified property version can only have a value when publisher is set."),
            ],
        )
    image_id = reference["virtualMachineImageId"]
    matched = GALLERY_IMAGE.match(image_id)
    if matched is None:
        raise batch_invalid_property(
            "virtualMachineImageId",
            "The value must be the resource id of an Azure Compute Gallery image version or image definition.",
        )
    if matched["subscription"].lower() != backend.settings.subscription_id.lower():
        raise batch_invalid_property(
            "virtualMachineImageId", "The image must be in the same subscription as the Azure Batch account."
        )
    info = pool_image_info(backend, image_id, region)
    if info is None:
        raise batch_invalid_property("virtualMachineImageId", f"The image '{image_id}' does not exist.")
    if not info["replicated"]:
        raise batch_invalid_property(
            "virtualMachineImageId",
            f"The image '{image_id}' must have replicas in the same "
            f"region as the Azure Batch account ('{region}'); it is not replicated there.",
        )
    return {
        "source": "gallery",
        "osType": info["os_type"],
        "hyperVGeneration": info["hyper_v_generation"],
        "securityType": info.get("security_type"),
        "exactVersion": info["version_id"].rsplit("/", 1)[-1],
        "imageId": image_id,
        "versionId": info["version_id"],
    }


def _check_node_agent(sku_id, image: dict) -> None:
    if not sku_id:
        raise batch_missing_property("nodeAgentSKUId")
    agent_os = next(
        (os for known, os in catalogue.NODE_AGENT_SKUS.items() if known.lower() == str(sku_id).lower()), None
    )
    if agent_os is None:
        raise batch_invalid_property(
            "nodeAgentSKUId",
            f"The node agent SKU '{sku_id}' is not supported; list the supported images to see the node agent SKUs.",
        )
    if agent_os != image["osType"]:
        raise batch_invalid_property(
            "nodeAgentSKUId",
            f"The node agent SKU '{sku_id}' is for {agent_os} but the image's operating system is {image['osType']}.",
        )


def _check_security(profile: dict, image: dict, vm_size: dict) -> None:
    wanted = None
    if profile.get("securityType"):
        wanted = SECURITY_TYPES.get(str(profile["securityType"]).lower())
        if wanted is None:
            raise batch_invalid_property(
                "securityProfile.securityType",
                f"The security type '{profile['securityType']}' is not one of trustedLaunch, confidentialvm.",
            )
        if image["hyperVGeneration"] != "V2":
            raise batch_invalid_property(
                "securityProfile.securityType",
                f"Security type '{wanted}' needs a generation 2 (hyperVGeneration V2) image.",
            )
        if not vm_size["trustedLaunch"]:
            raise batch_invalid_property(
                "vmSize", f"The VM size '{vm_size['name']}' does not support security type '{wanted}'."
            )
    required = REQUIRED_SECURITY.get(image.get("securityType") or "")
    if required and wanted != required:
        raise batch_invalid_property(
            "securityProfile.securityType", f"The image only supports VMs with security type '{required}'."
        )
    if image["hyperVGeneration"] not in vm_size["hyperVGenerations"]:
        raise batch_invalid_property(
            "vmSize",
            f"The VM size '{vm_size['name']}' does not support "
            f"{image['hyperVGeneration']} (generation {image['hyperVGeneration'][1]}) images.",
        )
