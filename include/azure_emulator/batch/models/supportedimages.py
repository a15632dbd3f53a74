"""The Marketplace images Batch supports (``GET /supportedimages``), from the emulator's catalogue.

``capabilities`` lists features "of special interest" to Batch (container support and the like);
none of the catalogue's plain OS images has one, so the list is empty.
"""

from __future__ import annotations

from ... import catalogue

# When Batch stops accepting new pools on an image. Our estimate: the end of the OS vendor's standard
# support for the release (Ubuntu LTS five years, Windows Server mainstream plus extended, EL ten years).
END_OF_LIFE = {
    "batch.node.ubuntu 22.04": "2027-06-30T00:00:00Z",
    "batch.node.ubuntu 24.04": "2029-06-30T00:00:00Z",
    "batch.node.el 9": "2032-05-31T00:00:00Z",
    "2019-datacenter": "2029-01-09T00:00:00Z",
    "2022-datacenter": "2031-10-14T00:00:00Z",
}


def _end_of_life(image: dict) -> str:
    windows_release = image["sku"].removesuffix("-g2")
    return END_OF_LIFE.get(image["nodeAgentSKUId"]) or END_OF_LIFE[windows_release]


def listing(backend) -> list[dict]:
    return [{"nodeAgentSKUId": image["nodeAgentSKUId"],
             "imageReference": {"publisher": image["publisher"], "offer": image["offer"], "sku": image["sku"],
                                "version": "latest"},
             "osType": image["osType"].lower(), "verificationType": "verified",
             "capabilities": [],
             "batchSupportEndOfLife": _end_of_life(image)}
            for image in catalogue.images(backend)]
