"""Resource groups through azure-mgmt-resource: create or update, get, exists, list, and delete with its contents."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute.models import Gallery
from azure.mgmt.resource.resources.models import ResourceGroup

from tests.integration import clients


@pytest.fixture(scope="module")
def resources(info, credential):
    with clients.resources(info, credential) as client:
        yield client


def with_status(pipeline_response, deserialized, headers):
    return pipeline_response.http_response.status_code, deserialized


def test_create_then_update_get_exists_and_list(resources, info):
    status, created = resources.resource_groups.create_or_update(
        "rg-crud", ResourceGroup(location="West Europe", tags={"team": "render"}), cls=with_status
    )
    assert status == 201
    assert created.id == f"/subscriptions/{info['subscription_id']}/resourceGroups/rg-crud"
    assert (created.name, created.location, created.tags) == ("rg-crud", "westeurope", {"team": "render"})
    assert created.properties.provisioning_state == "Succeeded"

    status, updated = resources.resource_groups.create_or_update(
        "rg-crud", ResourceGroup(location="westeurope", tags={"team": "genomics"}), cls=with_status
    )
    assert status == 200
    assert updated.tags == {"team": "genomics"}

    assert resources.resource_groups.get("RG-CRUD").tags == {"team": "genomics"}
    assert resources.resource_groups.check_existence("rg-crud") is True
    assert resources.resource_groups.check_existence("rg-never-made") is False
    names = [group.name for group in resources.resource_groups.list()]
    assert "rg-crud" in names
    assert info["resource_group"] in names
    resources.resource_groups.begin_delete("rg-crud").result()


def test_group_cannot_move_to_another_location(resources):
    resources.resource_groups.create_or_update("rg-moving", ResourceGroup(location="westeurope"))
    with pytest.raises(ResourceExistsError) as err:
        resources.resource_groups.create_or_update("rg-moving", ResourceGroup(location="northeurope"))
    assert err.value.error.code == "InvalidResourceGroupLocation"
    resources.resource_groups.begin_delete("rg-moving").result()


def test_get_and_delete_of_a_missing_group(resources):
    with pytest.raises(ResourceNotFoundError) as err:
        resources.resource_groups.get("rg-missing")
    assert err.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        resources.resource_groups.begin_delete("rg-missing")
    assert err.value.error.code == "ResourceGroupNotFound"


def test_delete_is_a_long_running_operation_that_removes_the_contents(resources, compute, control, info):
    resources.resource_groups.create_or_update("rg-cascade", ResourceGroup(location=info["location"]))
    gallery = compute.galleries.begin_create_or_update(
        "rg-cascade", "cascade_gallery", Gallery(location=info["location"])
    ).result()
    # Slow enough (3 s of real time) to look at the group while it is being deleted.
    control.patch("/durations", json={"vm_delete": 1800})

    poller = resources.resource_groups.begin_delete("rg-cascade", polling_interval=0.05)
    assert resources.resource_groups.get("rg-cascade").properties.provisioning_state == "Deleting"
    with pytest.raises(ResourceExistsError) as err:
        resources.resource_groups.create_or_update("rg-cascade", ResourceGroup(location=info["location"]))
    assert err.value.error.code == "ResourceGroupBeingDeleted"
    assert compute.galleries.get("rg-cascade", "cascade_gallery").id == gallery.id

    poller.result(timeout=30)
    assert poller.status() == "Succeeded"
    assert resources.resource_groups.check_existence("rg-cascade") is False
    with pytest.raises(ResourceNotFoundError):
        compute.galleries.get("rg-cascade", "cascade_gallery")
    assert gallery.id not in {r["id"] for r in control.get("/resources").json()["value"]}
    with pytest.raises(ResourceNotFoundError) as err:
        compute.galleries.begin_create_or_update("rg-cascade", "cascade_gallery", Gallery(location=info["location"]))
    assert err.value.error.code == "ResourceGroupNotFound"
