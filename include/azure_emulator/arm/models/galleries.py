"""Compute galleries and gallery image definitions."""

from __future__ import annotations

import re

from azure_emulator import timeline
from azure_emulator.arm.common import check_same_location, tracked
from azure_emulator.errors import AzureError, nested_resources_exist, property_change_not_allowed

GALLERIES = "arm/galleries"
IMAGES = "arm/galleryImages"
VERSIONS = "arm/galleryImageVersions"

GALLERY_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.]{0,78}[A-Za-z0-9])?$")
IMAGE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$")
OS_TYPES = {"linux": "Linux", "windows": "Windows"}
OS_STATES = {"generalized": "Generalized", "specialized": "Specialized"}
HYPER_V = {"v1": "V1", "v2": "V2"}
SECURITY_TYPES = {
    "Standard",
    "TrustedLaunch",
    "TrustedLaunchSupported",
    "ConfidentialVM",
    "ConfidentialVMSupported",
    "TrustedLaunchAndConfidentialVmSupported",
}
# The JSON types of what gallery and image definition PUTs are read for (see azure_emulator.shapes).
GALLERY_BODY = {"properties": {"description": str}}
IMAGE_BODY = {
    "properties": {
        "osType": str,
        "osState": str,
        "hyperVGeneration": str,
        "architecture": str,
        "identifier": {"publisher": str, "offer": str, "sku": str},
        "features": [{"name": str, "value": str}],
        "description": str,
        "eula": str,
        "endOfLifeDate": str,
        "releaseNoteUri": str,
        "privacyStatementUri": str,
        "recommended": {"vCPUs": {"min": int, "max": int}, "memory": {"min": int, "max": int}},
    }
}
# Definition fields that Azure refuses to change once set.
IMMUTABLE = ("osType", "osState", "hyperVGeneration", "identifier", "architecture")


def _children(backend, kind: str, parent_id: str) -> list[str]:
    return [v["id"] for v in backend.views(kind, parent_id + "/")]


# --- galleries ------------------------------------------------------------------------------------


def put_gallery(backend, gallery_id: str, location: str, tags: dict, props: dict) -> tuple[dict, bool, float]:
    """Create or update a gallery; returns (document, created, emulated duration)."""
    name = gallery_id.rsplit("/", 1)[-1]
    if not GALLERY_NAME.match(name):
        raise AzureError(
            "InvalidParameter",
            f"The gallery name '{name}' is invalid. Allowed characters are English "
            "alphanumeric characters, with underscores and periods allowed in the middle, up to 80 "
            "characters total.",
            target="galleryName",
        )
    duration = backend.durations["gallery_create"]
    existing = backend.settled(GALLERIES, gallery_id)
    now = backend.now()
    if existing:
        check_same_location(existing, location)
        existing["tags"] = tags
        existing["properties"]["description"] = props.get("description", existing["properties"].get("description"))
        existing["properties"]["provisioningState"] = "Updating"
        timeline.schedule(existing, now + duration, {"properties.provisioningState": "Succeeded"})
        return backend.save(GALLERIES, gallery_id, existing), False, duration
    subscription = gallery_id.split("/")[2]
    doc = tracked(
        gallery_id,
        "Microsoft.Compute/galleries",
        location,
        tags,
        {
            "description": props.get("description"),
            "identifier": {"uniqueName": f"{subscription}-{name.upper()}"},
            "provisioningState": "Creating",
        },
    )
    timeline.schedule(doc, now + duration, {"properties.provisioningState": "Succeeded"})
    return backend.save(GALLERIES, gallery_id, doc), True, duration


def delete_gallery(backend, gallery_id: str) -> float | None:
    """Schedule deletion; None if the gallery does not exist."""
    doc = backend.settled(GALLERIES, gallery_id)
    if doc is None:
        return None
    children = _children(backend, IMAGES, gallery_id)
    if children:
        raise nested_resources_exist([c.split("/providers/", 1)[1] for c in children])
    duration = backend.durations["gallery_delete"]
    doc["properties"]["provisioningState"] = "Deleting"
    timeline.schedule(doc, backend.now() + duration, {timeline.DELETED: True})
    backend.save(GALLERIES, gallery_id, doc)
    return duration


# --- image definitions ------------------------------------------------------------------------------


def _choice(props: dict, field: str, allowed: dict[str, str], required: bool = True) -> str | None:
    raw = props.get(field)
    if raw is None:
        if required:
            raise AzureError("InvalidParameter", f"Required parameter '{field}' is missing (null).", target=field)
        return None
    value = allowed.get(str(raw).lower())
    if value is None:
        raise AzureError(
            "InvalidParameter",
            f"The value '{raw}' of parameter '{field}' is not allowed. Allowed "
            f"values are: {', '.join(allowed.values())}.",
            target=field,
        )
    return value


def _definition_properties(props: dict) -> dict:
    identifier = props.get("identifier") or {}
    for part in ("publisher", "offer", "sku"):
        if not identifier.get(part):
            raise AzureError(
                "InvalidParameter",
                f"Required parameter 'identifier.{part}' is missing (null).",
                target=f"identifier.{part}",
            )
    features = props.get("features")
    hyper_v = _choice(props, "hyperVGeneration", HYPER_V, required=False)
    if features is None and hyper_v is None:
        # Since api-version 2025-03-03 a definition created without either is Gen2 + Trusted Launch supported.
        hyper_v = "V2"
        features = [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
    hyper_v = hyper_v or "V1"
    features = features or []
    for feature in features:
        if feature.get("name") == "SecurityType" and feature.get("value") not in SECURITY_TYPES:
            raise AzureError(
                "InvalidParameter",
                f"The value '{feature.get('value')}' of feature 'SecurityType' is "
                f"not allowed. Allowed values are: {', '.join(sorted(SECURITY_TYPES))}.",
                target="features",
            )
    security = security_type({"features": features})
    if security.startswith(("TrustedLaunch", "ConfidentialVM")) and hyper_v != "V2":
        raise AzureError(
            "InvalidParameter", f"Security type '{security}' requires hyperVGeneration 'V2'.", target="hyperVGeneration"
        )
    result = {
        "osType": _choice(props, "osType", OS_TYPES),
        "osState": _choice(props, "osState", OS_STATES),
        "hyperVGeneration": hyper_v,
        "identifier": {k: identifier[k] for k in ("publisher", "offer", "sku")},
        "architecture": props.get("architecture") or "x64",
        "features": features,
    }
    for optional in ("description", "eula", "endOfLifeDate", "recommended", "releaseNoteUri", "privacyStatementUri"):
        if props.get(optional) is not None:
            result[optional] = props[optional]
    return result


def security_type(definition_props: dict) -> str:
    for feature in definition_props.get("features") or []:
        if feature.get("name") == "SecurityType":
            return feature.get("value")
    return "Standard"


def put_image(
    backend, gallery_id: str, image_id: str, location: str, tags: dict, props: dict
) -> tuple[dict, bool, float]:
    name = image_id.rsplit("/", 1)[-1]
    if backend.view(GALLERIES, gallery_id) is None:
        raise AzureError(
            "ParentResourceNotFound",
            f"Can not perform requested operation on nested resource. Parent "
            f"resource '{gallery_id.rsplit('/', 1)[-1]}' not found.",
        )
    if not IMAGE_NAME.match(name):
        raise AzureError(
            "InvalidParameter",
            f"The gallery image name '{name}' is invalid. Allowed characters are "
            "English alphanumeric characters, with underscores, hyphens and periods allowed in the "
            "middle, up to 80 characters total.",
            target="galleryImageName",
        )
    wanted = _definition_properties(props)
    duration = backend.durations["gallery_image_create"]
    now = backend.now()
    existing = backend.settled(IMAGES, image_id)
    if existing:
        check_same_location(existing, location)
        for field in IMMUTABLE:
            if existing["properties"].get(field) != wanted.get(field):
                raise property_change_not_allowed(f"galleryImage.properties.{field}")
        existing["properties"].update(wanted, provisioningState="Updating")
        existing["tags"] = tags
        timeline.schedule(existing, now + duration, {"properties.provisioningState": "Succeeded"})
        return backend.save(IMAGES, image_id, existing), False, duration
    doc = tracked(
        image_id, "Microsoft.Compute/galleries/images", location, tags, dict(wanted, provisioningState="Creating")
    )
    timeline.schedule(doc, now + duration, {"properties.provisioningState": "Succeeded"})
    return backend.save(IMAGES, image_id, doc), True, duration


def delete_image(backend, image_id: str) -> float | None:
    doc = backend.settled(IMAGES, image_id)
    if doc is None:
        return None
    children = _children(backend, VERSIONS, image_id)
    if children:
        raise nested_resources_exist([c.split("/providers/", 1)[1] for c in children])
    duration = backend.durations["gallery_image_delete"]
    doc["properties"]["provisioningState"] = "Deleting"
    timeline.schedule(doc, backend.now() + duration, {timeline.DELETED: True})
    backend.save(IMAGES, image_id, doc)
    return duration
