"""What the build-VM family sends and names, checked without Azure: the VM create body, deterministic
names, the create operator's result and its input checks.
"""

from __future__ import annotations

import base64

import pytest

from imagepool.hooks.arm import ArmHook, operation_from
from imagepool.hooks.facts import version_key
from imagepool.hooks.vm import BUILD_TAG, BuildVm, is_build_disk, vm_body, windows_computer_name
from imagepool.operators.disks import NAME_LIMIT, RESOURCE_NAME, snapshot_name
from imagepool.operators.vm import build_vm_result, password_problems

SUBNET = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/build"
IMAGE = {
    "publisher": "Canonical",
    "offer": "0001-com-ubuntu-server-jammy",
    "sku": "22_04-lts-gen2",
    "version": "22.04.202411010",
}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2n2zYc1Y8RkM4O3Hh6Xr9kq8c0f1b2d3e4f5a6b7c8 build@imagepool"
PASSWORD = "Sup3r-Secret-Passw0rd!"


def spec(**overrides) -> BuildVm:
    args = dict(
        location="westeurope",
        vm_size="Standard_D2s_v5",
        os_type="Linux",
        image=IMAGE,
        security_type="Standard",
        subnet_id=SUBNET,
        admin_username="azureuser",
        build_script="echo hi\n",
        ssh_public_key=KEY,
        data_disk_sizes_gb=(8, 16),
        tags={"team": "render"},
    )
    args.update(overrides)
    return BuildVm(**args)


def body(**overrides) -> dict:
    """The request body as the SDK puts it on the wire."""
    return vm_body("bvm", spec(**overrides)).as_dict()


class TestVmBody:
    def test_disks_and_nic_go_with_the_vm(self):
        props = body()["properties"]
        storage = props["storageProfile"]
        nic = props["networkProfile"]["networkInterfaceConfigurations"][0]
        assert storage["osDisk"]["deleteOption"] == "Delete"
        assert [(d["lun"], d["name"], d["diskSizeGB"], d["deleteOption"]) for d in storage["dataDisks"]] == [
            (0, "bvm-datadisk-0", 8, "Delete"),
            (1, "bvm-datadisk-1", 16, "Delete"),
        ]
        assert storage["osDisk"]["name"] == "bvm-osdisk"
        assert (nic["name"], nic["properties"]["deleteOption"]) == ("nic", "Delete")
        assert nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] == SUBNET

    def test_no_public_ip_unless_asked(self):
        def public_ip(props):
            ip = props["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]["ipConfigurations"][0]
            return ip["properties"].get("publicIPAddressConfiguration")

        assert public_ip(body()["properties"]) is None
        asked = public_ip(body(public_ip=True)["properties"])
        assert (asked["name"], asked["properties"]["deleteOption"], asked["tags"][BUILD_TAG]) == (
            "pip",
            "Delete",
            "bvm",
        )

    def test_linux_logs_in_with_the_ssh_key_only_and_runs_the_script_as_custom_data(self):
        profile = body()["properties"]["osProfile"]
        linux = profile["linuxConfiguration"]
        assert linux["disablePasswordAuthentication"] is True
        assert linux["ssh"]["publicKeys"] == [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": KEY}]
        assert "adminPassword" not in profile
        assert base64.b64decode(profile["customData"]) == b"echo hi\n"
        assert profile["allowExtensionOperations"] is False

    def test_windows_gets_the_password_and_a_first_logon_that_runs_the_script(self):
        profile = body(os_type="Windows", ssh_public_key=None, admin_password=PASSWORD)["properties"]["osProfile"]
        assert profile["adminPassword"] == PASSWORD
        assert profile["computerName"] == "bvm"
        unattend = {
            c["settingName"]: c["content"] for c in profile["windowsConfiguration"]["additionalUnattendContent"]
        }
        assert "<LogonCount>1</LogonCount>" in unattend["AutoLogon"]
        assert "CustomData.bin" in unattend["FirstLogonCommands"]

    def test_windows_password_is_escaped_in_the_unattend_xml(self):
        tricky = "A<b>&c1234567890"
        profile = body(os_type="Windows", ssh_public_key=None, admin_password=tricky)["properties"]["osProfile"]
        auto_logon = profile["windowsConfiguration"]["additionalUnattendContent"][0]["content"]
        assert "A&lt;b&gt;&amp;c1234567890" in auto_logon

    def test_password_is_not_in_the_spec_repr(self):
        assert PASSWORD not in repr(spec(os_type="Windows", admin_password=PASSWORD))

    @pytest.mark.parametrize(
        ("security_type", "uefi"),
        [("Standard", None), ("TrustedLaunch", {"secureBootEnabled": True, "vTpmEnabled": True})],
    )
    def test_security_type_is_always_explicit(self, security_type, uefi):
        security = body(security_type=security_type)["properties"]["securityProfile"]
        assert security["securityType"] == security_type
        assert security.get("uefiSettings") == uefi

    def test_tags_mark_the_build_vm(self):
        made = body()
        assert made["tags"] == {"team": "render", BUILD_TAG: "bvm"}
        assert made["properties"]["networkProfile"]["networkInterfaceConfigurations"][0]["tags"] == made["tags"]

    def test_boot_diagnostics_are_on_and_image_is_concrete(self):
        props = body()["properties"]
        assert props["diagnosticsProfile"]["bootDiagnostics"]["enabled"] is True
        assert props["storageProfile"]["imageReference"] == IMAGE


class TestNames:
    def test_windows_computer_name_keeps_15_characters_without_a_trailing_hyphen(self):
        assert windows_computer_name("bvm-windows-build") == "bvm-windows-bui"
        assert windows_computer_name("build-windows-x-y") == "build-windows-x"
        assert windows_computer_name("abcdefghijklmn-z") == "abcdefghijklmn"

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("bvm-osdisk", True),
            ("bvm-datadisk-3", True),
            ("BVM-OSDISK", True),
            ("bvm-x-osdisk", False),
            ("bvm-datadisk-x", False),
            ("bvm2-osdisk", False),
        ],
    )
    def test_build_disks_are_recognised_by_exact_name(self, name, expected):
        assert is_build_disk("bvm", name) is expected

    def test_versions_compare_as_numbers(self):
        assert max(["22.04.99", "22.04.202411010", "22.04.202410020"], key=version_key) == "22.04.202411010"

    def test_snapshot_name_is_deterministic_and_valid(self):
        name = snapshot_name("bvm-osdisk", "scheduled__2026-11-22T00:00:00+00:00")
        assert name == "bvm-osdisk-scheduled__2026-11-22T00-00-00-00-00"
        assert RESOURCE_NAME.match(name)

    def test_long_snapshot_names_keep_a_digest(self):
        long_disk = "b" * 60 + "-datadisk-12"
        one, other = snapshot_name(long_disk, "manual__run-1"), snapshot_name(long_disk, "manual__run-2")
        assert len(one) == NAME_LIMIT
        assert RESOURCE_NAME.match(one)
        assert one != other
        assert snapshot_name(long_disk, "manual__run-1") == one


class TestCreateResult:
    def test_disks_are_listed_by_lun_for_expand_kwargs(self):
        vm = {
            "vm_id": "/vm",
            "vm_name": "bvm",
            "location": "westeurope",
            "vm_size": "Standard_D2s_v5",
            "os_type": "Linux",
            "hyper_v_generation": "V2",
            "security_type": "Standard",
            "image": IMAGE,
            "os_disk_id": "/os",
            "data_disk_ids": {"10": "/d10", "2": "/d2"},
            "nic_id": "/nic",
        }
        result = build_vm_result(vm, "g")
        assert result["disks"] == [
            {"disk_id": "/os", "lun": "os"},
            {"disk_id": "/d2", "lun": 2},
            {"disk_id": "/d10", "lun": 10},
        ]
        assert result["image_version"] == IMAGE["version"]
        assert list(result["data_disk_ids"]) == ["2", "10"]


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        (PASSWORD, True),
        ("alllowercase12", False),
        ("Short1!", False),
        ("NoDigitsButLong!", True),
        ("x" * 124, False),
        ("Ab1\n" * 4, False),
    ],
)
def test_password_rule_never_shows_the_password(password, ok):
    problems = password_problems(password)
    assert (problems == []) is ok
    assert all(password not in p for p in problems)


async def test_an_operation_that_ended_at_once_is_not_polled():
    class NoClient:
        async def send_request(self, request):
            raise AssertionError("a finished operation must not be polled")

    done = operation_from("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/snapshots/a", "delete", {})
    assert done.done
    found = await ArmHook("c").operation_status(NoClient(), done.to_dict())
    assert found["status"] == "Succeeded"
