"""Build-VM request bodies made with the SDK's model classes, the way the pipeline makes them."""

from __future__ import annotations

import base64
import time

from azure.mgmt.compute.models import (
    DataDisk,
    HardwareProfile,
    ImageReference,
    LinuxConfiguration,
    ManagedDiskParameters,
    NetworkProfile,
    OSDisk,
    OSProfile,
    SecurityProfile,
    SshConfiguration,
    SshPublicKey,
    StorageProfile,
    SubResource,
    VirtualMachine,
    VirtualMachineNetworkInterfaceConfiguration,
    VirtualMachineNetworkInterfaceConfigurationProperties,
    VirtualMachineNetworkInterfaceIPConfiguration,
    VirtualMachineNetworkInterfaceIPConfigurationProperties,
    VirtualMachineProperties,
    VirtualMachinePublicIPAddressConfiguration,
    VirtualMachinePublicIPAddressConfigurationProperties,
)

UBUNTU_GEN2 = ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2")
UBUNTU_GEN1 = ("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts")
WINDOWS_2022_G2 = ("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2")
ADMIN = "azureuser"
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2n2zYc1Y8RkM4O3Hh6Xr9kq8c0f1b2d3e4f5a6b7c8 build@imagepool"
BUILD_SCRIPT = base64.b64encode(
    b"#!/bin/bash\nset -e\napt-get install -y tool\nwaagent -force -deprovision+user && poweroff\n"
).decode()


def linux_profile(
    *, custom_data: str | None = None, password: str | None = None, disable_password: bool = True, keys: bool = True
) -> OSProfile:
    ssh = SshConfiguration(public_keys=[SshPublicKey(path=f"/home/{ADMIN}/.ssh/authorized_keys", key_data=SSH_KEY)])
    return OSProfile(
        admin_username=ADMIN,
        admin_password=password,
        custom_data=custom_data,
        linux_configuration=LinuxConfiguration(
            disable_password_authentication=disable_password, ssh=ssh if keys else None
        ),
    )


def nic_configuration(
    info,
    *,
    name: str = "nic",
    delete_option: str = "Delete",
    subnet_id: str | None = None,
    public_ip_delete_option: str | None = None,
) -> VirtualMachineNetworkInterfaceConfiguration:
    public_ip = None
    if public_ip_delete_option:
        public_ip = VirtualMachinePublicIPAddressConfiguration(
            name="pip",
            properties=VirtualMachinePublicIPAddressConfigurationProperties(delete_option=public_ip_delete_option),
        )
    ip_configuration = VirtualMachineNetworkInterfaceIPConfiguration(
        name="ipconfig",
        properties=VirtualMachineNetworkInterfaceIPConfigurationProperties(
            subnet=SubResource(id=subnet_id or info["subnet_id"]), public_ip_address_configuration=public_ip
        ),
    )
    return VirtualMachineNetworkInterfaceConfiguration(
        name=name,
        properties=VirtualMachineNetworkInterfaceConfigurationProperties(
            primary=True, delete_option=delete_option, ip_configurations=[ip_configuration]
        ),
    )


def build_vm(
    info,
    *,
    image: tuple[str, str, str] = UBUNTU_GEN2,
    version: str = "latest",
    size: str = "Standard_D2s_v5",
    os_profile: OSProfile | None = None,
    os_disk_delete: str = "Delete",
    data_disk_delete: str | None = "Delete",
    nic: VirtualMachineNetworkInterfaceConfiguration | None = None,
    security_type: str | None = None,
    network_api_version: str | None = "2020-11-01",
    tags: dict | None = None,
) -> VirtualMachine:
    publisher, offer, sku = image
    data_disks = []
    if data_disk_delete:
        data_disks = [
            DataDisk(
                lun=0,
                create_option="Empty",
                disk_size_gb=64,
                delete_option=data_disk_delete,
                managed_disk=ManagedDiskParameters(storage_account_type="Premium_LRS"),
            )
        ]
    return VirtualMachine(
        location=info["location"],
        tags=tags,
        properties=VirtualMachineProperties(
            hardware_profile=HardwareProfile(vm_size=size),
            storage_profile=StorageProfile(
                image_reference=ImageReference(publisher=publisher, offer=offer, sku=sku, version=version),
                os_disk=OSDisk(
                    create_option="FromImage",
                    delete_option=os_disk_delete,
                    managed_disk=ManagedDiskParameters(storage_account_type="Premium_LRS"),
                ),
                data_disks=data_disks,
            ),
            os_profile=os_profile or linux_profile(),
            network_profile=NetworkProfile(
                network_api_version=network_api_version,
                network_interface_configurations=[nic or nic_configuration(info)],
            ),
            security_profile=SecurityProfile(security_type=security_type) if security_type else None,
        ),
    )


def statuses(compute, rg: str, name: str) -> list[str]:
    return [s.code for s in compute.virtual_machines.instance_view(rg, name).statuses]


def wait_for_power(compute, rg: str, name: str, state: str, timeout: float = 10.0) -> float:
    """Real seconds until the VM reports ``PowerState/<state>``."""
    started = time.monotonic()
    while f"PowerState/{state}" not in statuses(compute, rg, name):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{name} not {state} after {timeout}s: {statuses(compute, rg, name)}")
        time.sleep(0.05)
    return time.monotonic() - started
