"""The facts hook against the local cloud, through an Airflow connection as a user defines it: every method,
the variants a plan must notice (a restricted size, a quota nearly used up, an account without Entra ID),
Azure's errors, and a connection to a sovereign cloud.
"""

from __future__ import annotations

import json
import os

import pytest

from imagepool.errors import AzureOperationFailed, AzureResourceNotFound
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.facts import AzureFactsHook, find_location
from imagepool_local.emulator import airflow_connection
from tests.emulator_process import start_emulator

JAMMY = ("Canonical", "0001-com-ubuntu-server-jammy")


@pytest.fixture(scope="module")
def hook():
    return AzureFactsHook()


@pytest.fixture
def variants(control):
    yield control
    assert control.delete("/variants").status_code == 204


def test_locations_of_the_connections_cloud(hook):
    locations = hook.locations()
    we = find_location(locations, "West Europe")
    assert we is not None
    assert (we.name, we.display_name, we.physical, we.zones) == ("westeurope", "West Europe", True, ("1", "2", "3"))
    assert we.paired_regions == ("northeurope",)
    assert (we.geography_group, we.region_category) == ("Europe", "Recommended")
    assert find_location(locations, "SpainCentral").name == "spaincentral"
    assert find_location(locations, "northcentralus").zones == ()
    assert find_location(locations, "europe").physical is False
    assert find_location(locations, "atlantis") is None


def test_resource_skus_of_a_region(hook):
    skus = {s.name: s for s in hook.resource_skus("West Europe")}
    d4 = skus["Standard_D4s_v5"]
    assert (d4.location, d4.family, d4.vcpus, d4.memory_gb) == ("westeurope", "standardDSv5Family", 4, 16.0)
    assert (d4.hyper_v_generations, d4.architecture, d4.premium_io, d4.max_data_disk_count) == (
        ("V1", "V2"),
        "x64",
        True,
        8,
    )
    assert (d4.zones, d4.available_zones, d4.restricted_in_region) == (("1", "2", "3"), ("1", "2", "3"), None)
    assert d4.capabilities["LowPriorityCapable"] == "True"
    arm64 = skus["Standard_D2ps_v5"]
    assert (arm64.architecture, arm64.hyper_v_generations, arm64.trusted_launch_disabled) == ("Arm64", ("V2",), True)
    a2 = skus["Standard_A2_v2"]
    assert (a2.premium_io, a2.hyper_v_generations) == (False, ("V1",))
    # Paging: more sizes than one page holds, each once.
    assert len(skus) > 10


def test_restrictions_a_plan_must_see(hook, variants):
    variants.put("/skus/westeurope/Standard_D4s_v5", json={"restricted": True})
    variants.put("/skus/westeurope/Standard_E4s_v5", json={"restricted_zones": ["1", "3"]})
    skus = {s.name: s for s in hook.resource_skus("westeurope")}
    restricted = skus["Standard_D4s_v5"].restricted_in_region
    assert (restricted.type, restricted.reason_code) == ("Location", "NotAvailableForSubscription")
    assert skus["Standard_E4s_v5"].restricted_in_region is None
    assert skus["Standard_E4s_v5"].available_zones == ("2",)
    every_size = hook.resource_skus("germanynorth")
    assert every_size
    assert all(s.restricted_in_region for s in every_size)


def test_compute_usages(hook, variants):
    variants.put("/usages/westeurope/standardDSv5Family", json={"limit": 8, "used": 7})
    usages = {u.name: u for u in hook.compute_usages("westeurope")}
    family = usages["standardDSv5Family"]
    assert family.limit == 8
    assert family.current_value >= 7
    assert family.available == 8 - family.current_value
    assert family.localized_name == "Standard DSv5 Family vCPUs"
    assert usages["cores"].limit == 100


def test_marketplace_image_facts(hook, info):
    latest = hook.marketplace_image(info["location"], *JAMMY, "22_04-lts-gen2", "latest")
    assert latest.version == "22.04.202411010"
    assert (latest.os_type, latest.hyper_v_generation, latest.architecture) == ("Linux", "V2", "x64")
    assert (latest.os_disk_size_gb, latest.plan, latest.trusted_launch_supported) == (30, None, True)
    assert latest.urn == "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202411010"
    windows = hook.marketplace_image(
        "West Europe", "MicrosoftWindowsServer", "WindowsServer", "2019-datacenter", "latest"
    )
    assert (windows.os_type, windows.os_disk_size_gb, windows.hyper_v_generation) == ("Windows", 127, "V1")
    arm64 = hook.marketplace_image(info["location"], *JAMMY, "22_04-lts-arm64", "latest")
    assert arm64.architecture == "Arm64"
    cis = hook.marketplace_image(
        info["location"],
        "center-for-internet-security-inc",
        "cis-ubuntu-linux-2204-l1",
        "cis-ubuntu22.04-l1-gen2",
        "1.0.10",
    )
    assert cis.plan == {
        "name": "cis-ubuntu22.04-l1-gen2",
        "product": "cis-ubuntu-linux-2204-l1",
        "publisher": "center-for-internet-security-inc",
    }


def test_an_unknown_image_names_the_image_and_azures_code(hook, info):
    with pytest.raises(AzureResourceNotFound) as err:
        hook.marketplace_image(info["location"], *JAMMY, "18_04-lts", "latest")
    assert err.value.code == "NotFound"
    assert "Canonical:0001-com-ubuntu-server-jammy:18_04-lts:latest" in str(err.value)


def test_batch_accounts(hook, info):
    account = hook.batch_account(info["resource_group"], info["batch_account"])
    assert (account.name, account.location, account.resource_group) == (
        info["batch_account"],
        info["location"],
        info["resource_group"],
    )
    assert account.subscription_id == info["subscription_id"]
    assert account.entra_id_allowed
    assert account.account_endpoint.endswith(f"/batch/{info['batch_account']}")
    assert (account.dedicated_core_quota, account.low_priority_core_quota, account.pool_quota) == (20000, 20000, 100)
    assert account.family_quota("standarddsv3family") == 20000
    assert hook.batch_account(info["resource_group"], "nosuchaccount") is None
    assert hook.batch_account("no-such-group", info["batch_account"]) is None
    assert {a.name for a in hook.batch_accounts()} == {a["name"] for a in info["batch_accounts"]}
    assert hook.find_batch_account(info["batch_account"].upper()).name == info["batch_account"]
    assert hook.find_batch_account("elsewhere") is None


def test_an_account_that_refuses_entra_id_and_its_family_quotas(hook, variants, info):
    variants.put(
        f"/batch-accounts/{info['batch_account']}",
        json={
            "allowed_authentication_modes": ["SharedKey"],
            "dedicated_core_quota_per_vm_family": {"standardDSv5Family": 12},
        },
    )
    account = hook.find_batch_account(info["batch_account"])
    assert account.allowed_authentication_modes == ("SharedKey",)
    assert not account.entra_id_allowed
    assert account.family_quota("standardDSv5Family") == 12
    variants.put(
        f"/batch-accounts/{info['batch_account']}", json={"dedicated_core_quota_per_vm_family_enforced": False}
    )
    assert hook.find_batch_account(info["batch_account"]).family_quota("standardDSv5Family") is None


def test_batch_supported_images():
    images = BatchHook().supported_images()
    jammy = [i for i in images if i.matches(*JAMMY, "22_04-lts-gen2")]
    assert [i.node_agent_sku_id for i in jammy] == ["batch.node.ubuntu 22.04"]
    assert jammy[0].os_type == "linux"
    assert jammy[0].batch_support_end_of_life.startswith("2027-06-30")
    assert not any(
        i.matches("center-for-internet-security-inc", "cis-ubuntu-linux-2204-l1", "cis-ubuntu22.04-l1-gen2")
        for i in images
    )


def test_subnet_facts(hook, info):
    subnet = hook.subnet(info["subnet_id"])
    assert (subnet.id, subnet.name, subnet.location) == (info["subnet_id"], "build", info["location"])
    assert subnet.virtual_network_id == info["subnet_id"].rsplit("/subnets/", 1)[0]
    assert subnet.address_prefixes == ("10.0.0.0/24",)
    assert hook.subnet(info["subnet_id"].replace("/subnets/build", "/subnets/nope")) is None
    assert hook.subnet(info["subnet_id"].replace("imagepool-vnet", "no-vnet")) is None
    with pytest.raises(AzureOperationFailed) as err:
        hook.subnet("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v")
    assert err.value.code == "InvalidSubnetId"


def test_test_connection_reports_the_cloud(hook):
    ok, message = hook.test_connection()
    assert ok, message
    assert "locations visible" in message


def test_a_connection_to_azure_government(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("usgov-hook"), speed=600, cloud="AzureUSGovernment")
    try:
        os.environ["AIRFLOW_CONN_AZURE_USGOV"] = json.dumps(airflow_connection(running.info))
        hook = AzureFactsHook("azure_usgov")
        names = {loc.name for loc in hook.locations()}
        assert {"usgovvirginia", "usgovarizona"} <= names
        assert "westeurope" not in names
        assert find_location(hook.locations(), "US Gov Virginia").zones == ("1", "2", "3")
        assert any(s.name == "Standard_D4s_v5" for s in hook.resource_skus("usgovarizona"))
        account = hook.find_batch_account("imagepoolbatch")
        assert account.location == "usgovvirginia"
    finally:
        os.environ.pop("AIRFLOW_CONN_AZURE_USGOV", None)
        running.stop()
