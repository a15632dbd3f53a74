"""The facts the local cloud serves from its catalogue, through the real SDKs: Subscriptions and Tenants,
Subscriptions - List Locations, Resource SKUs, Usage, Virtual Machine Images and Microsoft.Batch accounts,
with Azure's shapes, paging and error codes; and the variants the control endpoint adds at run time.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.integration import clients
from tests.integration.emulator.vm_builders import build_vm
from tests.integration.emulator.wire import assert_arm_error

CIS = ("center-for-internet-security-inc", "cis-ubuntu-linux-2204-l1", "cis-ubuntu22.04-l1-gen2")
JAMMY_ARM = ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-arm64")


@pytest.fixture(scope="module")
def subscriptions(info, credential):
    with clients.subscriptions(info, credential) as client:
        yield client


@pytest.fixture(scope="module")
def batch_management(info, credential):
    with clients.batch_management(info, credential) as client:
        yield client


@pytest.fixture(scope="module")
def arm(info, credential):
    with clients.arm_session(info, credential) as session:
        yield session


@pytest.fixture
def variants(control):
    """The control endpoint; the catalogue variants a test adds are forgotten after it."""
    yield control
    assert control.delete("/variants").status_code == 204


def locations_by_name(subscriptions, info) -> dict:
    return {loc.name: loc for loc in subscriptions.subscriptions.list_locations(info["subscription_id"])}


# --- subscriptions, tenants, locations ---------------------------------------------------------------------


def test_subscriptions_and_tenants(subscriptions, info):
    listed = list(subscriptions.subscriptions.list())
    assert [(s.subscription_id, s.tenant_id, s.state) for s in listed] == [
        (info["subscription_id"], info["tenant_id"], "Enabled")
    ]
    one = subscriptions.subscriptions.get(info["subscription_id"])
    assert one.id == f"/subscriptions/{info['subscription_id']}"
    assert one.subscription_policies.spending_limit == "Off"
    assert [t.tenant_id for t in subscriptions.tenants.list()] == [info["tenant_id"]]


def test_another_subscription_is_not_found(subscriptions):
    with pytest.raises(ResourceNotFoundError) as err:
        subscriptions.subscriptions.get("11111111-0000-4000-8000-000000000000")
    assert err.value.error.code == "SubscriptionNotFound"


def test_locations_of_the_public_cloud(subscriptions, info):
    found = locations_by_name(subscriptions, info)
    # Regions opened lately are listed like the others.
    assert {"westeurope", "spaincentral", "italynorth", "mexicocentral", "polandcentral"} <= set(found)
    we = found["westeurope"]
    assert (we.display_name, we.regional_display_name, we.type) == ("West Europe", "(Europe) West Europe", "Region")
    assert (we.metadata.region_type, we.metadata.region_category) == ("Physical", "Recommended")
    assert [p.name for p in we.metadata.paired_region] == ["northeurope"]
    assert [(m.logical_zone, m.physical_zone) for m in we.availability_zone_mappings] == [
        ("1", "westeurope-az1"),
        ("2", "westeurope-az2"),
        ("3", "westeurope-az3"),
    ]
    # A region without availability zones has no mappings; a logical region is not physical.
    assert found["northcentralus"].availability_zone_mappings is None
    assert found["europe"].metadata.region_type == "Logical"
    # No sovereign region in the public cloud.
    assert "usgovvirginia" not in found
    assert "chinanorth3" not in found


def test_zone_mappings_come_with_the_api_version_that_has_them(info, credential):
    with clients.subscriptions(info, credential, api_version="2021-01-01") as older:
        found = {loc.name: loc for loc in older.subscriptions.list_locations(info["subscription_id"])}
    assert found["westeurope"].display_name == "West Europe"
    assert found["westeurope"].availability_zone_mappings is None


# --- Resource SKUs ----------------------------------------------------------------------------------------


def test_resource_skus_in_a_region(compute):
    skus = {s.name: s for s in compute.resource_skus.list(filter="location eq 'westeurope'")}
    assert {"Standard_D4s_v5", "Standard_D2s_v3", "Standard_D2ps_v5", "Standard_A2_v2"} <= set(skus)
    d4 = skus["Standard_D4s_v5"]
    assert (d4.resource_type, d4.family, d4.tier, d4.size) == (
        "virtualMachines",
        "standardDSv5Family",
        "Standard",
        "D4s_v5",
    )
    caps = {c.name: c.value for c in d4.capabilities}
    assert caps["vCPUs"] == "4"
    assert caps["HyperVGenerations"] == "V1,V2"
    assert caps["CpuArchitectureType"] == "x64"
    assert caps["PremiumIO"] == "True"
    assert caps["MaxDataDiskCount"] == "8"
    assert d4.locations == ["westeurope"]
    assert d4.location_info[0].zones == ["1", "2", "3"]
    assert d4.restrictions == []
    arm64 = {c.name: c.value for c in skus["Standard_D2ps_v5"].capabilities}
    assert (arm64["CpuArchitectureType"], arm64["HyperVGenerations"]) == ("Arm64", "V2")
    a2 = {c.name: c.value for c in skus["Standard_A2_v2"].capabilities}
    assert (a2["PremiumIO"], a2["HyperVGenerations"]) == ("False", "V1")


def test_resource_skus_page_and_the_sdk_follows(compute, arm, info):
    first = arm.get(
        f"subscriptions/{info['subscription_id']}/providers/Microsoft.Compute/skus",
        params={"api-version": "2021-07-01", "$filter": "location eq 'westeurope'"},
    ).json()
    assert len(first["value"]) == 10
    assert parse_qs(urlparse(first["nextLink"]).query)["$skiptoken"] == ["10"]
    everything = list(compute.resource_skus.list(filter="location eq 'westeurope'"))
    assert len(everything) > 10
    assert len({s.name for s in everything}) == len(everything)


def test_sizes_are_offered_where_the_catalogue_says(compute):
    # HB-series only in its HPC regions; every size in a region whose access is restricted carries the restriction.
    assert "Standard_HB120rs_v3" in {s.name for s in compute.resource_skus.list(filter="location eq 'westeurope'")}
    assert "Standard_HB120rs_v3" not in {s.name for s in compute.resource_skus.list(filter="location eq 'uksouth'")}
    restricted = list(compute.resource_skus.list(filter="location eq 'germanynorth'"))
    assert restricted
    for sku in restricted:
        assert [(r.type, r.reason_code, r.values_property) for r in sku.restrictions] == [
            ("Location", "NotAvailableForSubscription", ["germanynorth"])
        ]


def test_resource_skus_take_a_location_filter_only(arm, info):
    response = arm.get(
        f"subscriptions/{info['subscription_id']}/providers/Microsoft.Compute/skus",
        params={"api-version": "2021-07-01", "$filter": "name eq 'Standard_D2s_v5'"},
    )
    assert assert_arm_error(response, 400, "InvalidParameter")["target"] == "$filter"


# --- Usage -------------------------------------------------------------------------------------------


def test_compute_usage_of_a_region(compute, variants):
    usage = {u.name.value: u for u in compute.usage.list("westeurope")}
    assert {"cores", "virtualMachines", "standardDSv5Family", "lowPriorityCores"} <= set(usage)
    family = usage["standardDSv5Family"]
    assert (family.name.localized_value, family.unit) == ("Standard DSv5 Family vCPUs", "Count")
    assert usage["cores"].name.localized_value == "Total Regional vCPUs"
    # A quota nearly used up: the limit and the cores in use beyond the emulator's own VMs.
    response = variants.put("/usages/westeurope/standardDSv5Family", json={"limit": 8, "used": 6})
    assert response.status_code == 200
    assert (response.json()["limit"], response.json()["currentValue"]) == (8, 6 + family.current_value)
    after = {u.name.value: u for u in compute.usage.list("West Europe")}
    assert (after["standardDSv5Family"].limit, after["standardDSv5Family"].current_value) == (
        8,
        6 + family.current_value,
    )
    assert after["cores"].limit == usage["cores"].limit


def test_usage_of_an_unknown_region_is_refused(compute):
    with pytest.raises(HttpResponseError) as err:
        list(compute.usage.list("atlantis"))
    assert (err.value.status_code, err.value.error.code) == (400, "NoRegisteredProviderFound")


# --- Virtual Machine Images ------------------------------------------------------------------------------


def test_image_facts_generation_architecture_disk_and_plan(compute, info):
    images = compute.virtual_machine_images
    ubuntu = images.get(info["location"], "Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", "latest")
    assert (ubuntu.hyper_v_generation, ubuntu.architecture, ubuntu.plan) == ("V2", "x64", None)
    # The disk size the service reports beyond the REST spec's osDiskImage.
    assert ubuntu.os_disk_image["sizeInGb"] == 30
    windows = images.get(info["location"], "MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2", "latest")
    assert windows.os_disk_image["sizeInGb"] == 127
    arm64 = images.get(info["location"], *JAMMY_ARM, "latest")
    assert (arm64.architecture, arm64.hyper_v_generation) == ("Arm64", "V2")
    cis = images.get(info["location"], *CIS, "latest")
    assert (cis.plan.name, cis.plan.product, cis.plan.publisher) == (CIS[2], CIS[1], CIS[0])


def test_images_batch_does_not_support_are_not_in_its_list(batch):
    supported = {(i.image_reference.publisher, i.image_reference.sku) for i in batch.list_supported_images()}
    assert ("Canonical", "22_04-lts-gen2") in supported
    assert (CIS[0], CIS[2]) not in supported
    assert (JAMMY_ARM[0], JAMMY_ARM[2]) not in supported


# --- Batch accounts (management plane) ---------------------------------------------------------------------


def test_batch_accounts_report_their_settings(batch_management, info):
    account = batch_management.batch_account.get(info["resource_group"], info["batch_account"])
    host = info["arm_endpoint"].split("//", 1)[1].rstrip("/")
    assert account.id == (
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        f"Microsoft.Batch/batchAccounts/{info['batch_account']}"
    )
    assert account.location == info["location"]
    props = account.properties
    assert props.account_endpoint == f"{host}/batch/{info['batch_account']}"
    assert set(props.allowed_authentication_modes) == {"SharedKey", "AAD", "TaskAuthenticationToken"}
    assert (props.dedicated_core_quota, props.low_priority_core_quota, props.pool_quota) == (20000, 20000, 100)
    assert props.dedicated_core_quota_per_vm_family_enforced is True
    families = {q.name: q.core_quota for q in props.dedicated_core_quota_per_vm_family}
    assert families["standardDSv5Family"] == 20000
    in_group = [a.name for a in batch_management.batch_account.list_by_resource_group(info["resource_group"])]
    assert in_group == [a["name"] for a in info["batch_accounts"]]
    assert {a.name for a in batch_management.batch_account.list()} == set(in_group)


def test_batch_account_keys_are_the_data_planes(batch_management, info):
    keys = batch_management.batch_account.get_keys(info["resource_group"], info["batch_account"])
    assert (keys.account_name, keys.primary) == (info["batch_account"], info["batch_account_key"])


def test_missing_batch_account_and_group(batch_management, info):
    with pytest.raises(ResourceNotFoundError) as err:
        batch_management.batch_account.get(info["resource_group"], "nosuchaccount")
    assert err.value.error.code == "ResourceNotFound"
    assert "Microsoft.Batch/batchAccounts/nosuchaccount" in err.value.error.message
    with pytest.raises(ResourceNotFoundError) as err:
        batch_management.batch_account.get("no-such-group", info["batch_account"])
    assert err.value.error.code == "ResourceGroupNotFound"


def test_an_entra_only_account_refuses_its_key(batch_management, variants, info):
    from azure.core.credentials import AzureNamedKeyCredential

    response = variants.put(f"/batch-accounts/{info['batch_account']}", json={"allowed_authentication_modes": ["AAD"]})
    assert response.status_code == 200
    account = batch_management.batch_account.get(info["resource_group"], info["batch_account"])
    assert account.properties.allowed_authentication_modes == ["AAD"]
    with clients.batch(info, AzureNamedKeyCredential(info["batch_account"], info["batch_account_key"])) as keyed:
        with pytest.raises(HttpResponseError) as err:
            list(keyed.list_supported_images())
    assert (err.value.status_code, err.value.error.code) == (403, "AuthenticationFailed")
    with pytest.raises(HttpResponseError) as err:
        batch_management.batch_account.get_keys(info["resource_group"], info["batch_account"])
    assert err.value.status_code == 400


def test_an_account_added_at_run_time(batch_management, variants, info):
    response = variants.put(
        "/batch-accounts/imagepoolbatchsc",
        json={
            "location": "swedencentral",
            "dedicated_core_quota": 40,
            "dedicated_core_quota_per_vm_family": {"standardDSv5Family": 8},
        },
    )
    assert response.status_code == 201
    assert "key" not in response.json()
    account = batch_management.batch_account.get(info["resource_group"], "imagepoolbatchsc")
    assert (account.location, account.properties.dedicated_core_quota) == ("swedencentral", 40)
    families = {q.name: q.core_quota for q in account.properties.dedicated_core_quota_per_vm_family}
    assert (families["standardDSv5Family"], families["standardDSv3Family"]) == (8, 40)
    assert variants.put("/batch-accounts/nolocation", json={"pool_quota": 3}).status_code == 400


# --- variants: what a test needs Azure to say --------------------------------------------------------------


def test_a_region_without_zones(subscriptions, compute, variants, info):
    assert variants.put("/regions/westeurope", json={"zones": False}).status_code == 200
    assert locations_by_name(subscriptions, info)["westeurope"].availability_zone_mappings is None
    sku = next(s for s in compute.resource_skus.list(filter="location eq 'westeurope'") if s.name == "Standard_D4s_v5")
    assert sku.location_info[0].zones == []


def test_a_region_opened_after_the_catalogue(subscriptions, compute, variants, info):
    assert variants.put("/regions/atlantiscentral", json={"zones": True}).status_code == 400
    response = variants.put(
        "/regions/atlantiscentral",
        json={"display_name": "Atlantis Central", "geography_group": "Europe", "zones": True},
    )
    assert response.status_code == 200
    found = locations_by_name(subscriptions, info)["atlantiscentral"]
    assert (found.display_name, found.metadata.region_type) == ("Atlantis Central", "Physical")
    assert len(found.availability_zone_mappings) == 3
    assert any(s.name == "Standard_D4s_v5" for s in compute.resource_skus.list(filter="location eq 'atlantiscentral'"))


def test_a_restricted_size_and_a_restricted_zone(compute, variants):
    response = variants.put("/skus/westeurope/Standard_D4s_v5", json={"restricted": True})
    assert response.status_code == 200
    assert variants.put("/skus/westeurope/Standard_E4s_v5", json={"restricted_zones": ["2"]}).status_code == 200
    assert variants.put("/skus/westeurope/Standard_F4s_v2", json={"offered": False}).status_code == 200
    skus = {s.name: s for s in compute.resource_skus.list(filter="location eq 'westeurope'")}
    (whole,) = skus["Standard_D4s_v5"].restrictions
    assert (whole.type, whole.reason_code, whole.restriction_info.locations) == (
        "Location",
        "NotAvailableForSubscription",
        ["westeurope"],
    )
    (zone,) = skus["Standard_E4s_v5"].restrictions
    assert (zone.type, zone.restriction_info.zones) == ("Zone", ["2"])
    assert "Standard_F4s_v2" not in skus


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/regions/westeurope", {"zones": "no"}),
        ("/regions/westeurope", {"colour": "blue"}),
        ("/regions/europe", {"zones": True}),
        ("/skus/westeurope/Standard_Q1_v9", {"restricted": True}),
        ("/skus/westeurope/Standard_D4s_v5", {"restricted_zones": "2"}),
        ("/usages/westeurope/cores", {"limit": None}),
        ("/batch-accounts/imagepoolbatch", {"pool_quota": "many"}),
    ],
)
def test_variants_that_could_not_be_served_are_refused(variants, path, body):
    response = variants.put(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "InvalidParameter"


# --- ARM's cloud metadata endpoint ---------------------------------------------------------------------------


def test_cloud_metadata_as_arm_serves_it(info):
    import requests

    base = info["arm_endpoint"].rstrip("/")
    url = f"{base}/metadata/endpoints"
    # No Authorization header: ARM serves this document to anyone.
    one = requests.get(url, params={"api-version": "2022-09-01"}, verify=info["ca_bundle"], timeout=10)
    assert one.status_code == 200
    doc = one.json()
    assert doc["name"] == "AzureCloud"
    assert doc["resourceManager"] == info["arm_endpoint"]
    assert doc["authentication"]["loginEndpoint"] == info["authority_host"]
    assert "https://management.core.windows.net/" in doc["authentication"]["audiences"]
    assert doc["batch"] == "https://batch.core.windows.net/"
    assert doc["suffixes"]["storage"] == "core.windows.net"
    listed = requests.get(url, params={"api-version": "2019-05-01"}, verify=info["ca_bundle"], timeout=10).json()
    assert listed == [doc]
    legacy = requests.get(url, params={"api-version": "2015-01-01"}, verify=info["ca_bundle"], timeout=10).json()
    assert legacy["authentication"]["loginEndpoint"] == info["authority_host"]
    bad = requests.get(url, params={"api-version": "2099-01-01"}, verify=info["ca_bundle"], timeout=10)
    assert_arm_error(bad, 400, "InvalidApiVersionParameter")


# --- what the catalogue says, creation obeys ---------------------------------------------------------------


def test_a_vm_of_a_restricted_size_is_not_made(compute, variants, info):
    variants.put(f"/skus/{info['location']}/Standard_D2s_v5", json={"restricted": True})
    with pytest.raises(HttpResponseError) as err:
        compute.virtual_machines.begin_create_or_update(info["resource_group"], "vm-restricted", build_vm(info))
    assert (err.value.status_code, err.value.error.code) == (409, "SkuNotAvailable")
    assert "Standard_D2s_v5" in err.value.error.message
    assert f"location '{info['location']}'" in err.value.error.message
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(info["resource_group"], "vm-restricted")


def test_an_arm64_size_does_not_boot_an_x64_image(compute, info):
    with pytest.raises(HttpResponseError) as err:
        compute.virtual_machines.begin_create_or_update(
            info["resource_group"], "vm-arm64", build_vm(info, size="Standard_D2ps_v5")
        )
    assert (err.value.status_code, err.value.error.code) == (400, "BadRequest")
    assert "Arm64" in err.value.error.message


def test_a_pool_of_a_size_its_region_does_not_offer_is_refused(batch, variants, info):
    from azure.batch import models as bm

    variants.put(f"/skus/{info['location']}/Standard_D2s_v3", json={"offered": False})
    config = bm.VirtualMachineConfiguration(
        image_reference=bm.BatchVmImageReference(
            publisher="Canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts", version="latest"
        ),
        node_agent_sku_id="batch.node.ubuntu 22.04",
    )
    with pytest.raises(HttpResponseError) as err:
        batch.create_pool(
            bm.BatchPoolCreateOptions(
                id="unoffered",
                vm_size="Standard_D2s_v3",
                virtual_machine_configuration=config,
                target_dedicated_nodes=1,
            )
        )
    assert (err.value.status_code, err.value.error.code) == (400, "InvalidPropertyValue")
