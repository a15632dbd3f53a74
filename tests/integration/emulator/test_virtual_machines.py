"""Build VMs through the real azure-mgmt-compute clients (sync and aio) over HTTPS: create from the
Marketplace, the build that powers the VM off, power actions, generalize, delete cascade, faults.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.compute.models import OSProfile

from tests.integration import clients
from tests.integration.emulator.vm_builders import (
    BUILD_SCRIPT,
    UBUNTU_GEN1,
    UBUNTU_GEN2,
    WINDOWS_2022_G2,
    build_vm,
    linux_profile,
    nic_configuration,
    statuses,
    wait_for_power,
)

DISKS = "arm/disks"
NICS = "arm/networkInterfaces"
PUBLIC_IPS = "arm/publicIPAddresses"


@pytest.fixture(scope="module")
def network(info, credential):
    with clients.network_session(info, credential) as session:
        yield session


def live_ids(control, kind: str) -> set[str]:
    return {r["id"].lower() for r in control.get("/resources", params={"kind": kind}).json()["value"]}


def latest_version(compute, info, image) -> str:
    newest = compute.virtual_machine_images.list(info["location"], *image, orderby="name desc", top=1)
    return newest[0].name


def test_create_resolves_latest_and_reports_instance_view(compute, info, network):
    rg = info["resource_group"]
    vm = compute.virtual_machines.begin_create_or_update(rg, "vm-latest", build_vm(info, tags={"purpose": "build"}))
    vm = vm.result()
    assert vm.provisioning_state == "Succeeded"
    assert vm.vm_id
    assert vm.time_created
    reference = vm.storage_profile.image_reference
    assert reference.version == "latest"
    assert reference.exact_version == latest_version(compute, info, UBUNTU_GEN2)
    os_disk = vm.storage_profile.os_disk
    assert os_disk.name.startswith("vm-latest_OsDisk_1_")
    assert os_disk.disk_size_gb == 30
    assert os_disk.delete_option == "Delete"
    assert os_disk.managed_disk.storage_account_type == "Premium_LRS"
    assert compute.disks.get(rg, os_disk.name).managed_by == vm.id

    view = compute.virtual_machines.get(rg, "vm-latest", expand="instanceView").instance_view
    assert (view.computer_name, view.os_name, view.hyper_v_generation) == ("vm-latest", "ubuntu", "V2")
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert view.statuses[1].display_status == "VM running"
    assert [d.name for d in view.disks] == [os_disk.name, vm.storage_profile.data_disks[0].name]

    nic_id = vm.network_profile.network_interfaces[0].id
    nic = network.get(nic_id).json()
    assert nic["properties"]["virtualMachine"]["id"] == vm.id
    assert nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"].startswith("10.0.0.")
    assert "vm-latest" in [v.name for v in compute.virtual_machines.list(rg)]
    compute.virtual_machines.begin_delete(rg, "vm-latest").result()


def test_published_marketplace_version_becomes_latest(compute, info, control):
    image = ("Canonical", "ubuntu-24_04-lts", "server")
    published = control.post(
        "/marketplace/versions", json=dict(zip(("publisher", "offer", "sku"), image), version="24.04.202601150")
    )
    assert published.status_code == 201
    assert latest_version(compute, info, image) == "24.04.202601150"
    vm = compute.virtual_machines.begin_create_or_update(
        info["resource_group"], "vm-newbase", build_vm(info, image=image)
    ).result()
    assert vm.storage_profile.image_reference.exact_version == "24.04.202601150"
    compute.virtual_machines.begin_delete(info["resource_group"], "vm-newbase").result()
    unknown = control.post(
        "/marketplace/versions", json={"publisher": "Canonical", "offer": "nope", "sku": "x", "version": "1.2.3"}
    )
    assert unknown.status_code == 400


def test_build_script_powers_the_vm_off(compute, info, control):
    control.patch("/durations", json={"build_linux": 600})
    rg = info["resource_group"]
    body = build_vm(info, os_profile=linux_profile(custom_data=BUILD_SCRIPT))
    compute.virtual_machines.begin_create_or_update(rg, "vm-build", body).result()
    assert "PowerState/running" in statuses(compute, rg, "vm-build")
    waited = wait_for_power(compute, rg, "vm-build", "stopped")
    assert waited > 0.5  # 600 emulated seconds at speed 600
    view = compute.virtual_machines.instance_view(rg, "vm-build")
    assert view.statuses[-1].display_status == "VM stopped"
    compute.virtual_machines.begin_delete(rg, "vm-build").result()


def test_build_that_never_finishes_keeps_running(compute, info, control):
    control.patch("/durations", json={"build_linux": 30})
    control.post("/faults", json={"kind": "build_never_finishes", "match": {"name": "^vm-stuck$"}})
    rg = info["resource_group"]
    compute.virtual_machines.begin_create_or_update(
        rg, "vm-stuck", build_vm(info, os_profile=linux_profile(custom_data=BUILD_SCRIPT))
    ).result()
    with pytest.raises(AssertionError):
        wait_for_power(compute, rg, "vm-stuck", "stopped", timeout=0.5)
    compute.virtual_machines.begin_delete(rg, "vm-stuck").result()


async def test_deallocate_generalize_and_start_refused(info):
    rg = info["resource_group"]
    async with clients.async_credential(info) as credential, clients.async_compute(info, credential) as compute:
        poller = await compute.virtual_machines.begin_create_or_update(rg, "vm-aio", build_vm(info))
        await poller.result()
        with pytest.raises(ResourceExistsError) as err:
            await compute.virtual_machines.generalize(rg, "vm-aio")
        assert err.value.error.code == "OperationNotAllowed"
        assert await (await compute.virtual_machines.begin_deallocate(rg, "vm-aio")).result() is None
        view = await compute.virtual_machines.instance_view(rg, "vm-aio")
        assert view.statuses[-1].code == "PowerState/deallocated"
        await compute.virtual_machines.generalize(rg, "vm-aio")
        view = await compute.virtual_machines.instance_view(rg, "vm-aio")
        assert [s.code for s in view.statuses] == [
            "ProvisioningState/succeeded",
            "OSState/generalized",
            "PowerState/deallocated",
        ]
        with pytest.raises(ResourceExistsError) as err:
            await (await compute.virtual_machines.begin_start(rg, "vm-aio")).result()
        assert "generalized" in err.value.error.message
        await (await compute.virtual_machines.begin_delete(rg, "vm-aio")).result()


def test_power_off_restart_and_start(compute, info):
    rg = info["resource_group"]
    compute.virtual_machines.begin_create_or_update(rg, "vm-power", build_vm(info)).result()
    compute.virtual_machines.begin_restart(rg, "vm-power").result()
    assert statuses(compute, rg, "vm-power")[-1] == "PowerState/running"
    compute.virtual_machines.begin_power_off(rg, "vm-power", skip_shutdown=True).result()
    assert statuses(compute, rg, "vm-power")[-1] == "PowerState/stopped"
    with pytest.raises(ResourceExistsError):
        compute.virtual_machines.begin_restart(rg, "vm-power")
    compute.virtual_machines.begin_start(rg, "vm-power").result()
    assert statuses(compute, rg, "vm-power")[-1] == "PowerState/running"
    compute.virtual_machines.begin_delete(rg, "vm-power").result()


def test_trusted_launch_windows_build(compute, info, control):
    control.patch("/durations", json={"build_windows": 60})
    rg = info["resource_group"]
    profile = OSProfile(
        computer_name="winbuild", admin_username="builder", admin_password="Str0ng!Passw0rd", custom_data=BUILD_SCRIPT
    )
    body = build_vm(info, image=WINDOWS_2022_G2, security_type="TrustedLaunch", os_profile=profile)
    vm = compute.virtual_machines.begin_create_or_update(rg, "vm-win", body).result()
    assert vm.security_profile.uefi_settings.secure_boot_enabled
    assert vm.security_profile.uefi_settings.v_tpm_enabled
    assert vm.os_profile.admin_password is None
    assert vm.os_profile.custom_data is None
    os_disk = compute.disks.get(rg, vm.storage_profile.os_disk.name)
    assert (os_disk.disk_size_gb, os_disk.security_profile.security_type) == (127, "TrustedLaunch")
    view = compute.virtual_machines.instance_view(rg, "vm-win")
    assert (view.computer_name, view.os_name) == ("winbuild", "Windows Server 2022 Datacenter")
    wait_for_power(compute, rg, "vm-win", "stopped")
    assert "vm-win" in [v.name for v in compute.virtual_machines.list_all()]
    compute.virtual_machines.begin_delete(rg, "vm-win").result()


def test_delete_follows_each_delete_option(compute, info, control, network):
    rg = info["resource_group"]
    body = build_vm(
        info,
        os_disk_delete="Detach",
        data_disk_delete="Delete",
        nic=nic_configuration(info, delete_option="Detach", public_ip_delete_option="Delete"),
    )
    vm = compute.virtual_machines.begin_create_or_update(rg, "vm-cascade", body).result()
    os_disk = vm.storage_profile.os_disk.managed_disk.id.lower()
    data_disk = vm.storage_profile.data_disks[0].managed_disk.id.lower()
    nic_id = vm.network_profile.network_interfaces[0].id
    public_ip = network.get(nic_id).json()["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"]["id"]
    assert network.get(public_ip).json()["properties"]["ipAddress"]
    assert network.delete(nic_id).json()["error"]["code"] == "NicInUse"
    with pytest.raises(ResourceExistsError):
        compute.disks.begin_delete(rg, vm.storage_profile.os_disk.name).result()

    compute.virtual_machines.begin_delete(rg, "vm-cascade", force_deletion=True).result()
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(rg, "vm-cascade")
    assert os_disk in live_ids(control, DISKS)
    assert data_disk not in live_ids(control, DISKS)
    assert compute.disks.get(rg, vm.storage_profile.os_disk.name).managed_by is None
    assert nic_id.lower() in live_ids(control, NICS)
    assert public_ip.lower() not in live_ids(control, PUBLIC_IPS)
    released = network.get(nic_id).json()["properties"]
    assert "virtualMachine" not in released
    assert "publicIPAddress" not in released["ipConfigurations"][0]["properties"]

    assert network.delete(nic_id).status_code == 202
    compute.disks.begin_delete(rg, vm.storage_profile.os_disk.name).result()
    assert compute.virtual_machines.begin_delete(rg, "vm-cascade").status() == "Succeeded"  # 204: already gone


def test_delete_option_delete_leaves_nothing_behind(compute, info, control):
    rg = info["resource_group"]
    body = build_vm(info, nic=nic_configuration(info, public_ip_delete_option="Delete"))
    vm = compute.virtual_machines.begin_create_or_update(rg, "vm-clean", body).result()
    storage = vm.storage_profile
    owned = {
        storage.os_disk.managed_disk.id.lower(),
        storage.data_disks[0].managed_disk.id.lower(),
        vm.network_profile.network_interfaces[0].id.lower(),
    }
    compute.virtual_machines.begin_delete(rg, "vm-clean").result()
    assert not owned & (live_ids(control, DISKS) | live_ids(control, NICS))
    assert not [p for p in live_ids(control, PUBLIC_IPS) if "vm-clean" in p]


def test_provisioning_failure_fault_fails_the_operation(compute, info, control):
    control.post(
        "/faults",
        json={
            "kind": "vm_provisioning_failed",
            "match": {"name": "^vm-broken$"},
            "code": "OSProvisioningClientError",
            "message": "The guest never reported ready.",
        },
    )
    rg = info["resource_group"]
    poller = compute.virtual_machines.begin_create_or_update(rg, "vm-broken", build_vm(info))
    with pytest.raises(HttpResponseError) as err:
        poller.result()
    assert err.value.error.code == "OSProvisioningClientError"
    # As on Azure, the failed VM and what it created stay until deleted.
    vm = compute.virtual_machines.get(rg, "vm-broken", expand="instanceView")
    assert vm.provisioning_state == "Failed"
    assert vm.instance_view.statuses[0].code == "ProvisioningState/failed/OSProvisioningClientError"
    assert vm.storage_profile.os_disk.managed_disk.id.lower() in live_ids(control, DISKS)
    compute.virtual_machines.begin_delete(rg, "vm-broken").result()


def test_re_put_joins_creation_updates_tags_and_refuses_image_change(compute, info, control):
    control.patch("/durations", json={"vm_create": 300})
    rg = info["resource_group"]
    first = compute.virtual_machines.begin_create_or_update(rg, "vm-reput", build_vm(info))
    codes = []
    again = compute.virtual_machines.begin_create_or_update(
        rg, "vm-reput", build_vm(info), raw_response_hook=lambda r: codes.append(r.http_response.status_code)
    )
    assert codes[0] == 200
    assert again.result().provisioning_state == first.result().provisioning_state == "Succeeded"
    vm = compute.virtual_machines.get(rg, "vm-reput")
    vm.tags = {"round": "2"}
    assert compute.virtual_machines.begin_create_or_update(rg, "vm-reput", vm).result().tags == {"round": "2"}
    with pytest.raises(ResourceExistsError) as err:
        compute.virtual_machines.begin_create_or_update(rg, "vm-reput", build_vm(info, image=UBUNTU_GEN1))
    assert err.value.error.code == "PropertyChangeNotAllowed"
    compute.virtual_machines.begin_delete(rg, "vm-reput").result()


@pytest.mark.parametrize(
    ("case", "body_args", "status", "code"),
    [
        ("unknown image", {"image": ("Canonical", "UbuntuServer", "99_04")}, 404, "PlatformImageNotFound"),
        ("unknown size", {"size": "Standard_Q1_v9"}, 400, "InvalidParameter"),
        ("gen2 image on gen1 size", {"size": "Standard_A2_v2"}, 400, "BadRequest"),
        ("trusted launch on gen1 image", {"image": UBUNTU_GEN1, "security_type": "TrustedLaunch"}, 400, "BadRequest"),
        ("bad subnet", {"subnet": "nosuchsubnet"}, 400, "InvalidResourceReference"),
        (
            "password-only Linux",
            {"os_profile": linux_profile(password="Str0ng!Passw0rd", keys=False)},
            400,
            "InvalidParameter",
        ),
        (
            "customData not base64",
            {"os_profile": linux_profile(custom_data="#!/bin/bash\necho hi")},
            400,
            "InvalidParameter",
        ),
        ("no networkApiVersion", {"network_api_version": None}, 400, "InvalidParameter"),
        (
            "trusted launch on a size without it",
            {"size": "Standard_HB120rs_v3", "security_type": "TrustedLaunch"},
            400,
            "BadRequest",
        ),
        (
            "Windows without password",
            {"image": WINDOWS_2022_G2, "os_profile": OSProfile(admin_username="builder")},
            400,
            "InvalidParameter",
        ),
    ],
)
def test_bad_requests_get_azure_errors(compute, info, control, case, body_args, status, code):
    body_args = dict(body_args)
    subnet = body_args.pop("subnet", None)
    if subnet:
        body_args["nic"] = nic_configuration(info, subnet_id=info["subnet_id"].rsplit("/", 1)[0] + "/" + subnet)
    before = live_ids(control, DISKS) | live_ids(control, NICS)
    with pytest.raises(HttpResponseError) as err:
        compute.virtual_machines.begin_create_or_update(info["resource_group"], "vm-bad", build_vm(info, **body_args))
    assert (err.value.status_code, err.value.error.code) == (status, code), case
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(info["resource_group"], "vm-bad")
    assert live_ids(control, DISKS) | live_ids(control, NICS) == before
