"""Galleries and image definitions through the real azure-mgmt-compute client over HTTPS."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute.models import (
    Gallery,
    GalleryImage,
    GalleryImageFeature,
    GalleryImageIdentifier,
    GalleryImageProperties,
    GalleryProperties,
)


def definition(info, sku="ubuntu2204", **props) -> GalleryImage:
    base = dict(
        os_type="Linux",
        os_state="Generalized",
        hyper_v_generation="V2",
        identifier=GalleryImageIdentifier(publisher="contoso", offer="batch", sku=sku),
        features=[GalleryImageFeature(name="SecurityType", value="TrustedLaunchSupported")],
    )
    base.update(props)
    return GalleryImage(location=info["location"], properties=GalleryImageProperties(**base))


def test_gallery_create_get_update_delete(compute, info):
    rg = info["resource_group"]
    created = compute.galleries.begin_create_or_update(
        rg, "gal_crud", Gallery(location=info["location"], properties=GalleryProperties(description="first"))
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert created.id.endswith("/providers/Microsoft.Compute/galleries/gal_crud")
    assert created.identifier.unique_name
    updated = compute.galleries.begin_create_or_update(
        rg, "gal_crud", Gallery(location=info["location"], properties=GalleryProperties(description="second"))
    ).result()
    assert updated.description == "second"
    assert [g.name for g in compute.galleries.list_by_resource_group(rg)].count("gal_crud") == 1
    compute.galleries.begin_delete(rg, "gal_crud").result()
    with pytest.raises(ResourceNotFoundError) as err:
        compute.galleries.get(rg, "gal_crud")
    assert err.value.error.code == "ResourceNotFound"


def test_gallery_name_with_dash_is_refused(compute, info):
    with pytest.raises(HttpResponseError) as err:
        compute.galleries.begin_create_or_update(info["resource_group"], "bad-name", Gallery(location=info["location"]))
    assert err.value.status_code == 400
    assert err.value.error.code == "InvalidParameter"


def test_image_definition_rules(compute, info):
    rg = info["resource_group"]
    compute.galleries.begin_create_or_update(rg, "gal_defs", Gallery(location=info["location"])).result()
    image = compute.gallery_images.begin_create_or_update(rg, "gal_defs", "ubuntu", definition(info)).result()
    assert (image.os_type, image.os_state, image.hyper_v_generation) == ("Linux", "Generalized", "V2")
    with pytest.raises(ResourceExistsError) as err:
        compute.gallery_images.begin_create_or_update(
            rg, "gal_defs", "ubuntu", definition(info, os_type="Windows")
        ).result()
    assert err.value.error.code == "PropertyChangeNotAllowed"
    with pytest.raises(ResourceExistsError) as err:
        compute.galleries.begin_delete(rg, "gal_defs").result()
    assert err.value.error.code == "CannotDeleteResource"
    compute.gallery_images.begin_delete(rg, "gal_defs", "ubuntu").result()
    compute.galleries.begin_delete(rg, "gal_defs").result()


def test_definition_defaults_to_trusted_launch_gen2(compute, info):
    rg = info["resource_group"]
    compute.galleries.begin_create_or_update(rg, "gal_default", Gallery(location=info["location"])).result()
    image = compute.gallery_images.begin_create_or_update(
        rg,
        "gal_default",
        "plain",
        GalleryImage(
            location=info["location"],
            properties=GalleryImageProperties(
                os_type="Linux",
                os_state="Generalized",
                identifier=GalleryImageIdentifier(publisher="p", offer="o", sku="s"),
            ),
        ),
    ).result()
    assert image.hyper_v_generation == "V2"
    assert {(f.name, f.value) for f in image.features} == {("SecurityType", "TrustedLaunchSupported")}


def test_definition_in_missing_gallery(compute, info):
    with pytest.raises(ResourceNotFoundError):
        compute.gallery_images.begin_create_or_update(info["resource_group"], "nogallery", "x", definition(info))
