"""Marketplace images and VM sizes through the real azure-mgmt-compute clients (sync and aio)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.integration import clients

JAMMY = ("Canonical", "0001-com-ubuntu-server-jammy")
ALMA = ("almalinux", "almalinux-x86_64", "9-gen2")


def test_publishers_offers_skus(compute, info):
    images = compute.virtual_machine_images
    assert {"Canonical", "MicrosoftWindowsServer"} <= {p.name for p in images.list_publishers(info["location"])}
    offers = images.list_offers(info["location"], "canonical")
    assert JAMMY[1] in [o.name for o in offers]
    assert offers[0].id.startswith(f"/Subscriptions/{info['subscription_id']}/Providers/Microsoft.Compute/Locations/")
    assert {"22_04-lts", "22_04-lts-gen2"} <= {s.name for s in images.list_skus(info["location"], *JAMMY)}


def test_versions_and_image_properties(compute, info):
    images = compute.virtual_machine_images
    versions = [v.name for v in images.list(info["location"], *JAMMY, "22_04-lts-gen2")]
    assert versions == ["22.04.202409120", "22.04.202410020", "22.04.202411010"]
    image = images.get(info["location"], *JAMMY, "22_04-lts-gen2", "22.04.202410020")
    assert image.name == "22.04.202410020"
    assert image.id.endswith(
        "/ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts-gen2/Versions/22.04.202410020"
    )
    assert (image.hyper_v_generation, image.os_disk_image.operating_system) == ("V2", "Linux")
    assert {(f.name, f.value) for f in image.features} >= {("SecurityType", "TrustedLaunchSupported")}
    assert images.get(info["location"], *JAMMY, "22_04-lts", "latest").name == "22.04.202411010"


def test_latest_compares_versions_numerically(compute, info, control):
    # "9.10" sorts before "9.5" as text; Azure compares each part as a number.
    response = control.post(
        "/marketplace/versions", json=dict(zip(("publisher", "offer", "sku"), ALMA), version="9.10.2025060101")
    )
    assert response.status_code == 201
    assert "9.10.2025060101" in response.json()["versions"]
    newest = compute.virtual_machine_images.list(info["location"], *ALMA, orderby="name desc", top=1)
    assert [v.name for v in newest] == ["9.10.2025060101"]
    assert (
        control.post(
            "/marketplace/versions", json=dict(zip(("publisher", "offer", "sku"), ALMA), version="latest")
        ).status_code
        == 400
    )


def test_unknown_image_is_not_found(compute, info):
    with pytest.raises(ResourceNotFoundError) as err:
        compute.virtual_machine_images.list(info["location"], *JAMMY, "18_04-lts")
    assert (err.value.error.code, err.value.error.message) == ("NotFound", "Artifact: VMImage was not found.")
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machine_images.get(info["location"], *JAMMY, "22_04-lts", "1.2.3")
    with pytest.raises(HttpResponseError) as err:
        compute.virtual_machine_images.list_publishers("atlantis")
    assert err.value.status_code == 400


async def test_sizes_and_versions_with_the_aio_client(info):
    async with clients.async_credential(info) as credential, clients.async_compute(info, credential) as compute:
        sizes = {s.name: s async for s in compute.virtual_machine_sizes.list(info["location"])}
        assert sizes["Standard_D2s_v5"].number_of_cores == 2
        assert sizes["Standard_D2s_v5"].memory_in_mb == 8192
        versions = await compute.virtual_machine_images.list(info["location"], *JAMMY, "22_04-lts")
        assert versions[-1].name == "22.04.202411010"
