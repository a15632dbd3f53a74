"""Rules ARM applies to every request before a resource provider sees it, through the real SDKs: an
api-version the resource type never had (400 NoRegisteredProviderFound, or InvalidApiVersionParameter for
ARM's own types) and any operation in a resource group that does not exist (404 ResourceGroupNotFound). The
WWW-Authenticate challenge on every 401 is test_auth's.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute.models import CreationData, Disk, DiskProperties

from tests.integration import clients
from tests.integration.emulator.wire import assert_arm_error

MISSING_GROUP = "no-such-group"


@pytest.fixture(scope="module")
def arm(info, credential):
    with clients.arm_session(info, credential) as session:
        yield session


def rg_path(info, group: str) -> str:
    return f"subscriptions/{info['subscription_id']}/resourceGroups/{group}"


@pytest.mark.parametrize(
    ("path", "version", "type_name"),
    [
        # A Compute version galleries never had, and a gallery version virtual machines never had.
        ("providers/Microsoft.Compute/galleries", "2024-11-01", "galleries"),
        ("providers/Microsoft.Compute/virtualMachines", "2026-03-03", "virtualMachines"),
        ("providers/Microsoft.Compute/disks", "2026-04-01", "disks"),
        ("providers/Microsoft.Batch/batchAccounts", "2026-04-01", "batchAccounts"),
    ],
)
def test_an_api_version_the_type_never_had(arm, info, path, version, type_name):
    response = arm.get(f"{rg_path(info, info['resource_group'])}/{path}", params={"api-version": version})
    error = assert_arm_error(response, 400, "NoRegisteredProviderFound")
    assert f"API version '{version}' for type '{type_name}'" in error["message"]
    assert "The supported api-versions are '" in error["message"]


def test_the_sdk_sees_the_same_refusal(compute, info):
    # What an outdated client sends: a version the type never had.
    with pytest.raises(HttpResponseError) as err:
        compute.galleries.get(info["resource_group"], "anything", api_version="2001-01-01")
    assert (err.value.status_code, err.value.error.code) == (400, "NoRegisteredProviderFound")


def test_arms_own_types_answer_invalid_api_version(arm, info):
    response = arm.get(rg_path(info, info["resource_group"]), params={"api-version": "2099-01-01"})
    error = assert_arm_error(response, 400, "InvalidApiVersionParameter")
    assert error["message"].startswith("The api-version '2099-01-01' is invalid. The supported versions are '")
    assert "2024-11-01" in error["message"]


def test_an_operation_status_is_read_with_its_family_version(arm, compute, info):
    # A network delete is polled where Microsoft.Network serves its operations, with the network's version.
    nic = f"{rg_path(info, info['resource_group'])}/providers/Microsoft.Network/networkInterfaces/ghost-nic"
    assert arm.delete(nic, params={"api-version": "2024-05-01"}).status_code == 204


@pytest.mark.parametrize(
    "call",
    [
        lambda c, rg: c.galleries.get(rg, "gallery"),
        lambda c, rg: list(c.virtual_machines.list(rg)),
        lambda c, rg: c.disks.begin_create_or_update(
            rg,
            "disk",
            Disk(
                location="westeurope",
                properties=DiskProperties(creation_data=CreationData(create_option="Empty"), disk_size_gb=4),
            ),
        ),
        lambda c, rg: c.snapshots.begin_delete(rg, "snapshot").result(),
        lambda c, rg: c.gallery_image_versions.get(rg, "gallery", "image", "1.0.0"),
    ],
    ids=["get", "list", "put", "delete", "child"],
)
def test_any_operation_in_a_missing_group(compute, call):
    with pytest.raises(ResourceNotFoundError) as err:
        call(compute, MISSING_GROUP)
    assert err.value.error.code == "ResourceGroupNotFound"
    assert err.value.error.message == f"Resource group '{MISSING_GROUP}' could not be found."


def test_missing_group_for_network_and_batch_accounts_too(arm, info):
    for path, version in (
        ("providers/Microsoft.Network/virtualNetworks/vnet", "2024-05-01"),
        ("providers/Microsoft.Batch/batchAccounts", "2024-07-01"),
    ):
        response = arm.get(f"{rg_path(info, MISSING_GROUP)}/{path}", params={"api-version": version})
        assert_arm_error(response, 404, "ResourceGroupNotFound")
