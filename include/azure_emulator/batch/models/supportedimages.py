"""The Marketplace images Batch supports (``GET /supportedimages``), from the emulator's catalogue.

``capabilities`` lists features "of special interest" to Batch (container support and the like);
none of the catalogue's plain OS images has one, so the list is empty.
"""

from __future__ import annotations

from azure_emulator import catalogue

# When Batch stops accepting new pools on an image. Our estimate: the end of the OS vendor's standard
# support for the release (Ubuntu LTS five years, Windows Server mainstream plus extended, EL ten years).
END_OF_LIFE = {
    "batch.node.ubuntu 22.04": "2027-06-30T00:00:00Z",
    "batch.node.ubuntu 24.04": "2029-06-30T00:00:00Z",
    "batch.node.el 9": "2032-05-31T00:00:00Z",
    "2019-datacenter": "2029-01-09T00:00:00Z",
    "2022-datacenter": "2031-10-14T00:00:00Z",
}


def _end_of_life(image: dict) -> str | None:
    # Windows images share one node agent SKU; the release is in the image SKU.
    key = image["nodeAgentSKUId"] if image["osType"] == "Linux" else image["sku"].removesuffix("-g2")
    return END_OF_LIFE.get(key)


def listing(backend) -> list[dict]:
    found = []
    for image in catalogue.batch_images(backend):
        entry = {
            "nodeAgentSKUId": image["nodeAgentSKUId"],
            "imageReference": {
                "publisher": image["publisher"],
                "offer": image["offer"],
                "sku": image["sku"],
                "version": "latest",
            },
            "osType": image["osType"].lower(),
            "verificationType": "verified",
            "capabilities": [],
        }
        end_of_life = _end_of_life(image)
        if end_of_life:
            entry["batchSupportEndOfLife"] = end_of_life
        found.append(entry)
    return found
