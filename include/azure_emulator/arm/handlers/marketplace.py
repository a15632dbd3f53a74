"""Marketplace images (``virtual_machine_images``) and VM sizes (``virtual_machine_sizes``) of a region."""

from __future__ import annotations

from azure_emulator import catalogue
from azure_emulator.arm.common import SUB, region_in_path, respond
from azure_emulator.arm.models import marketplace as model
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

LOCATION = rf"{SUB}/providers/Microsoft\.Compute/locations/(?P<location>{NAME})"
PUBLISHER = rf"{LOCATION}/publishers/(?P<publisher>{NAME})"
OFFER = rf"{PUBLISHER}/artifacttypes/vmimage/offers/(?P<offer>{NAME})"
SKU = rf"{OFFER}/skus/(?P<sku>{NAME})"


def _not_found() -> AzureError:
    # Real message, as Get-AzVMImageSku and the CLI print it for an unknown publisher, offer, SKU or version.
    return AzureError("NotFound", "Artifact: VMImage was not found.")


def _image(call: Call) -> dict:
    image = catalogue.find_image(call.backend, call.params["publisher"], call.params["offer"], call.params["sku"])
    if image is None:
        raise _not_found()
    return image


def _resource(call: Call, location: str, name: str, image: dict, *parts: str) -> dict:
    return {
        "location": location,
        "name": name,
        "id": model.image_id(call.params["subscription"], location, image, *parts),
    }


async def list_publishers(call: Call):
    location = region_in_path(call)
    return respond([_resource(call, location, i["publisher"], i) for i in model.publishers(call.backend)])


async def list_offers(call: Call):
    location = region_in_path(call)
    found = model.offers(call.backend, call.params["publisher"])
    if not found:
        raise _not_found()
    return respond([_resource(call, location, i["offer"], i, i["offer"]) for i in found])


async def list_skus(call: Call):
    location = region_in_path(call)
    found = model.skus(call.backend, call.params["publisher"], call.params["offer"])
    if not found:
        raise _not_found()
    return respond([_resource(call, location, i["sku"], i, i["offer"], i["sku"]) for i in found])


async def list_versions(call: Call):
    location = region_in_path(call)
    image = _image(call)
    top = call.query.get("$top")
    if top is not None and not top.isdigit():
        raise AzureError(
            "InvalidParameter", f"The value '{top}' of parameter '$top' is not a valid integer.", target="$top"
        )
    newest_first = call.query.get("$orderby", "").strip().lower() == "name desc"
    found = model.versions(image, newest_first=newest_first, top=int(top) if top is not None else None)
    return respond([_resource(call, location, v, image, image["offer"], image["sku"], v) for v in found])


async def get_version(call: Call):
    location = region_in_path(call)
    image = _image(call)
    version = model.resolve(image, call.params["version"])
    if version is None:
        raise _not_found()
    body = _resource(call, location, version, image, image["offer"], image["sku"], version)
    body["properties"] = model.properties(image)
    return respond(body)


async def list_sizes(call: Call):
    location = region_in_path(call)
    offered = {doc["name"] for doc in catalogue.skus(call.backend, location)}
    return respond(
        {
            "value": [
                {
                    "name": size.name,
                    "numberOfCores": size.cores,
                    "osDiskSizeInMB": 1047552,
                    "resourceDiskSizeInMB": size.temp_disk_gb * 1024,
                    "memoryInMB": int(size.memory_gb * 1024),
                    "maxDataDiskCount": size.max_data_disks,
                }
                for size in catalogue.SIZES
                if size.name in offered
            ]
        }
    )


ROUTES = [
    ("GET", rf"{LOCATION}/publishers", list_publishers),
    ("GET", rf"{PUBLISHER}/artifacttypes/vmimage/offers", list_offers),
    ("GET", rf"{OFFER}/skus", list_skus),
    ("GET", rf"{SKU}/versions", list_versions),
    ("GET", rf"{SKU}/versions/(?P<version>{NAME})", get_version),
    ("GET", rf"{LOCATION}/vmSizes", list_sizes),
]
