"""Build VM create, the build-finished sensor and generalize against the emulator, deferring through
the real triggers. The helpers at the top are shared with the snapshot, image and cleanup tests.
"""

from __future__ import annotations

import json
import logging

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

from imagepool.errors import AzureOperationFailed
from imagepool.operators.vm import AzureBuildVmCreateOperator, AzureBuildVmGeneralizeOperator
from imagepool.sensors.vm import AzureBuildVmFinishedSensor
from tests.integration.library.harness import RecordingTaskInstance, run_task

UBUNTU = {"image_publisher": "Canonical", "image_offer": "0001-com-ubuntu-server-jammy", "image_sku": "22_04-lts-gen2"}
UBUNTU_GEN1 = dict(UBUNTU, image_sku="22_04-lts")
WINDOWS = {
    "image_publisher": "MicrosoftWindowsServer",
    "image_offer": "WindowsServer",
    "image_sku": "2022-datacenter-g2",
}
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2n2zYc1Y8RkM4O3Hh6Xr9kq8c0f1b2d3e4f5a6b7c8 build@imagepool"
SCRIPT = "#!/bin/bash\nset -e\napt-get install -y tool\nwaagent -force -deprovision+user && shutdown -h now\n"
WINDOWS_PASSWORD = "Sup3r-Secret-Passw0rd!"
# Emulated seconds (the emulator runs 600x): short builds, but long enough that every wait defers.
FAST_BUILD = {"build_linux": 600, "build_windows": 600}


def create_operator(info, fast, vm_name, **overrides) -> AzureBuildVmCreateOperator:
    args = dict(
        task_id="create_vm",
        vm_name=vm_name,
        location=info["location"],
        vm_size="Standard_D2s_v5",
        subnet_id=info["subnet_id"],
        build_script=SCRIPT,
        ssh_public_key=SSH_KEY,
        data_disk_sizes_gb=[8, 16],
        **UBUNTU,
        **fast,
    )
    args.update(overrides)
    return AzureBuildVmCreateOperator(**args)


def build_and_generalize(info, fast, control, vm_name, **overrides) -> dict:
    """A generalized build VM, as the pipeline leaves it for the snapshots; returns the create result."""
    control.patch("/durations", json=FAST_BUILD)
    created = run_task(create_operator(info, fast, vm_name, **overrides)).result
    run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name=vm_name, timeout=60, **fast))
    run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name=vm_name, **fast))
    return created


def live(control, prefix: str) -> list[dict]:
    """Every live emulated resource whose name starts with ``prefix`` (for leak and duplicate checks)."""
    return [
        r
        for r in control.get("/resources").json()["value"]
        if r["id"].rsplit("/", 1)[-1].lower().startswith(prefix.lower())
    ]


def arm_requests_since(control, last_id: int) -> list[dict]:
    return [r for r in control.get("/requests", params={"since": last_id}).json()["value"] if r["service"] == "arm"]


def last_request_id(control) -> int:
    return control.get("/requests", params={"since": 10**12}).json()["summary"]["last_id"]


# --- create ------------------------------------------------------------------------------------------


def test_create_resolves_latest_and_returns_plain_json(info, fast, compute, control):
    control.patch("/durations", json={"vm_create": 1200})  # 2 s here: long enough to defer
    run = run_task(create_operator(info, fast, "bvm-happy"))
    result = run.result
    latest = max(
        (v.name for v in compute.virtual_machine_images.list(info["location"], *UBUNTU.values())),
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )
    assert json.loads(json.dumps(result)) == result
    assert result["image_version"] == latest == result["image"]["version"]
    assert (result["vm_name"], result["os_type"], result["hyper_v_generation"], result["security_type"]) == (
        "bvm-happy",
        "Linux",
        "V2",
        "Standard",
    )
    assert result["os_disk_id"].endswith("/disks/bvm-happy-osdisk")
    assert result["data_disk_ids"] == {
        "0": result["os_disk_id"].replace("osdisk", "datadisk-0"),
        "1": result["os_disk_id"].replace("osdisk", "datadisk-1"),
    }
    assert [d["lun"] for d in result["disks"]] == ["os", 0, 1]
    assert result["nic_id"].endswith("/networkInterfaces/bvm-happy-nic")
    assert [d[0] for d in run.deferrals] == ["imagepool.triggers.arm.ArmOperationTrigger"]
    assert run.xcom["build_vm_portal_url"].endswith("/virtualMachines/bvm-happy/overview")

    vm = compute.virtual_machines.get(info["resource_group"], "bvm-happy")
    assert vm.provisioning_state == "Succeeded"
    assert vm.storage_profile.image_reference.version == latest  # the pipeline asked for a concrete version
    assert {
        vm.storage_profile.os_disk.delete_option,
        *(d.delete_option for d in vm.storage_profile.data_disks),
        vm.network_profile.network_interface_configurations[0].delete_option,
    } == {"Delete"}
    assert vm.os_profile.allow_extension_operations is False
    assert vm.os_profile.linux_configuration.disable_password_authentication is True
    assert vm.tags["imagepool-build-vm"] == "bvm-happy"
    assert not [r for r in live(control, "bvm-happy") if r["kind"] == "arm/publicIPAddresses"]


def test_rerun_reuses_the_vm_without_duplicates(info, fast, control):
    first = run_task(create_operator(info, fast, "bvm-again"))
    before = sorted(r["id"] for r in live(control, "bvm-again"))
    again = run_task(create_operator(info, fast, "bvm-again"))
    assert again.result == first.result
    assert again.deferrals == []
    assert again.xcom["build_vm_portal_url"] == first.xcom["build_vm_portal_url"]
    assert sorted(r["id"] for r in live(control, "bvm-again")) == before
    assert len(before) == 5  # VM, OS disk, two data disks, NIC


def test_retry_after_a_crash_joins_the_creation_under_way(info, fast, control):
    control.patch("/durations", json={"vm_create": 1200})
    first_try = create_operator(info, fast, "bvm-crash")
    with pytest.raises(TaskDeferred):  # the worker dies here, before the triggerer picks the wait up
        first_try.execute({"ti": RecordingTaskInstance()})
    assert {r["state"] for r in live(control, "bvm-crash") if r["kind"] == "arm/virtualMachines"} == {"Creating"}
    retry = run_task(create_operator(info, fast, "bvm-crash"))
    assert retry.result["vm_id"].endswith("/virtualMachines/bvm-crash")
    assert len(retry.deferrals) == 1
    assert len(live(control, "bvm-crash")) == 5


def test_rerun_keeps_the_image_version_the_vm_was_built_from(info, fast, control, compute):
    almalinux = {"image_publisher": "almalinux", "image_offer": "almalinux-x86_64", "image_sku": "9-gen2"}
    first = run_task(create_operator(info, fast, "bvm-moved", **almalinux)).result
    control.post(
        "/marketplace/versions",
        json={"publisher": "almalinux", "offer": "almalinux-x86_64", "sku": "9-gen2", "version": "9.9.2099010101"},
    )
    again = run_task(create_operator(info, fast, "bvm-moved", **almalinux)).result
    assert again["image_version"] == first["image_version"] != "9.9.2099010101"


def test_rerun_with_other_settings_is_refused(info, fast):
    run_task(create_operator(info, fast, "bvm-other"))
    with pytest.raises(AzureOperationFailed) as err:
        run_task(create_operator(info, fast, "bvm-other", vm_size="Standard_D4s_v5"))
    assert "BuildVmMismatch" in str(err.value)
    assert "vm_size is 'Standard_D2s_v5', wanted 'Standard_D4s_v5'" in str(err.value)
    assert "cleanup" in str(err.value)


def test_trusted_launch_and_public_ip_when_asked(info, fast, compute, control):
    result = run_task(create_operator(info, fast, "bvm-tl", security_type="TrustedLaunch", public_ip=True)).result
    assert result["security_type"] == "TrustedLaunch"
    vm = compute.virtual_machines.get(info["resource_group"], "bvm-tl")
    assert (vm.security_profile.uefi_settings.secure_boot_enabled, vm.security_profile.uefi_settings.v_tpm_enabled) == (
        True,
        True,
    )
    assert [r["id"].rsplit("/", 1)[-1] for r in live(control, "bvm-tl") if r["kind"] == "arm/publicIPAddresses"] == [
        "bvm-tl-pip"
    ]


def test_trusted_launch_on_a_gen1_image_is_refused_before_creating(info, fast, control):
    with pytest.raises(AirflowFailException) as err:
        run_task(create_operator(info, fast, "bvm-tl-gen1", security_type="TrustedLaunch", **UBUNTU_GEN1))
    assert "security_type 'TrustedLaunch'" in str(err.value)
    assert "Hyper-V V1" in str(err.value)
    assert live(control, "bvm-tl-gen1") == []


def test_windows_build_takes_a_password_that_never_shows(info, fast, compute, caplog):
    caplog.set_level(logging.DEBUG)  # whatever the operator, its hooks and the SDKs log, debug included
    op = create_operator(
        info,
        fast,
        "bvm-windows-build",
        os_type="Windows",
        ssh_public_key=None,
        admin_password=WINDOWS_PASSWORD,
        **WINDOWS,
    )
    run = run_task(op)
    assert run.result["os_type"] == "Windows"
    assert WINDOWS_PASSWORD not in json.dumps([run.result, run.xcom, run.deferrals, run.events])
    assert caplog.records
    assert WINDOWS_PASSWORD not in caplog.text
    vm = compute.virtual_machines.get(info["resource_group"], "bvm-windows-build")
    assert vm.os_profile.computer_name == "bvm-windows-bui"
    assert vm.os_profile.admin_password is None  # Azure never returns it
    assert WINDOWS_PASSWORD not in json.dumps(vm.as_dict())
    unattend = vm.os_profile.windows_configuration.additional_unattend_content
    assert [c.setting_name for c in unattend] == ["AutoLogon", "FirstLogonCommands"]


def test_windows_build_without_a_password_gets_a_random_one(info, fast, compute):
    run = run_task(create_operator(info, fast, "bvm-win-nopw", ssh_public_key=None, os_type="Windows", **WINDOWS))
    vm = compute.virtual_machines.get(info["resource_group"], "bvm-win-nopw")
    assert vm.os_profile.windows_configuration is not None
    assert run.result["os_type"] == "Windows"
    assert "password" not in str(run.result).lower()


def test_provisioning_failure_names_code_then_rerun_names_cleanup(info, fast, control):
    control.post("/faults", json={"kind": "vm_provisioning_failed", "match": {"name": "^bvm-broken$"}})
    # Azure leaves the VM Failed, so neither failure is worth a retry of the task.
    with pytest.raises(AirflowFailException) as err:
        run_task(create_operator(info, fast, "bvm-broken"))
    assert "OSProvisioningTimedOut" in str(err.value)
    assert "bvm-broken" in str(err.value)
    assert "cleanup" in str(err.value)
    with pytest.raises(AirflowFailException) as again:
        run_task(create_operator(info, fast, "bvm-broken"))
    assert "OSProvisioningTimedOut" in str(again.value)
    assert "AzureBuildResourcesCleanupOperator" in str(again.value)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"build_script": "  \n"}, "build_script is empty"),
        ({"build_script": "x" * 70000}, "custom data limit is 87380"),
        ({"ssh_public_key": None}, "ssh_public_key is required"),
        ({"ssh_public_key": "not a key"}, "ssh_public_key is required"),
        ({"admin_password": WINDOWS_PASSWORD}, "admin_password must not be set for a Linux build VM"),
        (
            {"os_type": "Windows", "ssh_public_key": None, "admin_password": "short", **WINDOWS},
            "admin_password must be 12-123 characters",
        ),
        ({"vm_name": "-bad_name-"}, "vm_name '-bad_name-'"),
        ({"subnet_id": "/subscriptions/x/subnets/y"}, "subnet_id"),
        ({"image_version": "newest"}, "image_version 'newest'"),
        ({"security_type": "Confidential"}, "security_type 'Confidential'"),
        ({"data_disk_sizes_gb": [8, 0]}, "data_disk_sizes_gb"),
        ({"os_disk_size_gb": 5000}, "os_disk_size_gb 5000"),
        ({"admin_username": "root"}, "admin_username 'root'"),
        ({"storage_account_type": "UltraSSD_LRS"}, "storage_account_type 'UltraSSD_LRS'"),
    ],
)
def test_bad_input_is_refused_before_any_azure_call(info, fast, control, overrides, named):
    overrides.setdefault("vm_name", "bvm-bad-input")
    mark = last_request_id(control)
    with pytest.raises(AirflowFailException) as err:
        run_task(create_operator(info, fast, **overrides))
    assert named in str(err.value)
    assert WINDOWS_PASSWORD not in str(err.value)
    assert arm_requests_since(control, mark) == []


# --- build finished ----------------------------------------------------------------------------------


def test_sensor_waits_for_the_build_to_power_off(info, fast, control):
    control.patch("/durations", json=FAST_BUILD)
    run_task(create_operator(info, fast, "bvm-sensor"))
    run = run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-sensor", timeout=60, **fast))
    assert run.result == "stopped"
    assert [d[0] for d in run.deferrals] == ["imagepool.triggers.vm.VmPowerStateTrigger"]
    assert run.xcom["build_vm_portal_url"].endswith("/virtualMachines/bvm-sensor/overview")
    assert run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-sensor", **fast)).deferrals == []


def test_sensor_rides_out_throttling_and_server_errors(info, fast, control):
    control.patch("/durations", json=FAST_BUILD)
    run_task(create_operator(info, fast, "bvm-throttled"))
    for kind in ("throttle", "server_error"):
        control.post(
            "/faults",
            json={
                "kind": kind,
                "count": 3,
                "retry_after": 0.1,
                "match": {"service": "arm", "path": "bvm-throttled/instanceView"},
            },
        )
    run = run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-throttled", timeout=60, **fast))
    assert run.result == "stopped"
    assert control.get("/faults").json()["value"] == []  # every injected fault was met and ridden out


def test_sensor_times_out_naming_where_to_look(info, fast, control):
    control.post("/faults", json={"kind": "build_never_finishes", "match": {"name": "^bvm-stuck$"}})
    run_task(create_operator(info, fast, "bvm-stuck"))
    with pytest.raises(AirflowException) as err:
        run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-stuck", timeout=1.5, **fast))
    message = str(err.value)
    assert "Timed out" in message
    assert "power running" in message
    assert "/var/log/cloud-init-output.log" in message
    assert "boot diagnostics" in message
    assert "power off" in message


def test_sensor_reports_provisioning_failure_with_code(info, fast, control):
    control.post("/faults", json={"kind": "vm_provisioning_failed", "match": {"name": "^bvm-sensor-broken$"}})
    with pytest.raises(AirflowException):
        run_task(create_operator(info, fast, "bvm-sensor-broken"))
    with pytest.raises(AirflowException) as err:
        run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-sensor-broken", timeout=60, **fast))
    assert "provisioning failed" in str(err.value)
    assert "OSProvisioningTimedOut" in str(err.value)


def test_sensor_waits_in_the_worker_when_not_deferrable(info, fast, control):
    control.patch("/durations", json=FAST_BUILD)
    run_task(create_operator(info, fast, "bvm-sensor-sync"))
    run = run_task(
        AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-sensor-sync", timeout=60, deferrable=False, **fast)
    )
    assert (run.result, run.deferrals) == ("stopped", [])


# --- generalize --------------------------------------------------------------------------------------


def test_generalize_deallocates_then_generalizes_once(info, fast, control, compute):
    control.patch("/durations", json=FAST_BUILD)
    created = run_task(create_operator(info, fast, "bvm-general")).result
    run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-general", timeout=60, **fast))
    control.patch("/durations", json={"vm_deallocate": 1800})  # 3 s here: the wait must defer even under load
    run = run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name="bvm-general", **fast))
    assert run.result == created["vm_id"]
    assert len(run.deferrals) == 1
    codes = [s.code for s in compute.virtual_machines.instance_view(info["resource_group"], "bvm-general").statuses]
    assert {"OSState/generalized", "PowerState/deallocated"} <= set(codes)
    again = run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name="bvm-general", **fast))
    assert (again.result, again.deferrals) == (created["vm_id"], [])


def test_generalize_refuses_a_vm_still_building(info, fast, control):
    control.post("/faults", json={"kind": "build_never_finishes", "match": {"name": "^bvm-busy$"}})
    run_task(create_operator(info, fast, "bvm-busy"))
    with pytest.raises(AzureOperationFailed) as err:
        run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name="bvm-busy", **fast))
    assert "BuildNotFinished" in str(err.value)
    assert "running" in str(err.value)
    assert "AzureBuildVmFinishedSensor" in str(err.value)


def test_generalize_reports_a_failed_deallocation(info, fast, control):
    control.patch("/durations", json=FAST_BUILD)
    run_task(create_operator(info, fast, "bvm-nodealloc"))
    run_task(AzureBuildVmFinishedSensor(task_id="built", vm_name="bvm-nodealloc", timeout=60, **fast))
    control.post(
        "/faults",
        json={
            "kind": "operation_failed",
            "code": "AllocationFailed",
            "count": 1,
            "match": {"resource_type": "virtualMachines", "name": "^bvm-nodealloc$"},
        },
    )
    with pytest.raises(AirflowException) as err:
        run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name="bvm-nodealloc", **fast))
    assert "AllocationFailed" in str(err.value)
    assert "deallocate build VM bvm-nodealloc" in str(err.value)
    run = run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name="bvm-nodealloc", **fast))
    assert run.result.endswith("/virtualMachines/bvm-nodealloc")


def test_generalize_of_a_missing_vm_names_it(fast):
    with pytest.raises(AzureOperationFailed) as err:
        run_task(AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name="bvm-never-made", **fast))
    assert "bvm-never-made" in str(err.value)
    assert "ResourceNotFound" in str(err.value)
