"""Build VMs: the Marketplace image they start from, create, power state, deallocate, generalize,
delete, and the network resources a build VM can leave behind.

Everything a build VM creates is named after it (disks ``<vm>-osdisk`` / ``<vm>-datadisk-<lun>``,
NIC ``<vm>-nic``, public IP ``<vm>-pip``) and, where Azure allows tags, tagged
``imagepool-build-vm: <vm>``, so a cleanup finds it even when the pipeline lost track of its ids.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.compute.models import (
    AdditionalUnattendContent,
    BootDiagnostics,
    DataDisk,
    DiagnosticsProfile,
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
    UefiSettings,
    VirtualMachine,
    VirtualMachineNetworkInterfaceConfiguration,
    VirtualMachineNetworkInterfaceConfigurationProperties,
    VirtualMachineNetworkInterfaceIPConfiguration,
    VirtualMachineNetworkInterfaceIPConfigurationProperties,
    VirtualMachineProperties,
    VirtualMachinePublicIPAddressConfiguration,
    VirtualMachinePublicIPAddressConfigurationProperties,
    WindowsConfiguration,
)
from azure.mgmt.core.exceptions import ARMErrorFormat

from imagepool.errors import AzureResourceNotFound
from imagepool.hooks.arm import ArmHook, ArmOperation, operation_from, text
from imagepool.hooks.errors import translate
from imagepool.hooks.facts import marketplace_image

BUILD_TAG = "imagepool-build-vm"
# Azure names an inline NIC (and its public IP) "<vm>-<configuration name>".
NIC_CONFIGURATION, PUBLIC_IP_CONFIGURATION = "nic", "pip"
# The Microsoft.Network version the VM's inline NIC is created with, and that leftovers are read and deleted with.
NETWORK_API_VERSION = "2022-11-01"
# Power states in which the build script has finished (it powers the VM off) and generalize is allowed.
POWERED_OFF = ("stopped", "deallocated")
# Windows runs no cloud-init: the custom data lands in C:\AzureData and this first logon runs it.
WINDOWS_FIRST_LOGON = (
    "<FirstLogonCommands><SynchronousCommand><Order>1</Order><Description>imagepool build"
    "</Description><CommandLine>powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "
    '"Copy-Item C:\\AzureData\\CustomData.bin C:\\AzureData\\build.ps1; '
    '&amp; C:\\AzureData\\build.ps1 *&gt; C:\\AzureData\\build.log"</CommandLine>'
    "</SynchronousCommand></FirstLogonCommands>"
)


def os_disk_name(vm_name: str) -> str:
    return f"{vm_name}-osdisk"


def data_disk_name(vm_name: str, lun: int) -> str:
    return f"{vm_name}-datadisk-{lun}"


def is_build_disk(vm_name: str, disk_name: str) -> bool:
    return re.fullmatch(rf"{re.escape(vm_name)}-(osdisk|datadisk-\d+)", disk_name, re.IGNORECASE) is not None


@dataclass(frozen=True)
class BuildVm:
    """What the build VM is made of (plain values; the hook turns them into the Azure model)."""

    location: str
    vm_size: str
    os_type: str
    image: dict[str, str]  # publisher, offer, sku and a concrete version
    security_type: str
    subnet_id: str
    admin_username: str
    build_script: str
    ssh_public_key: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    os_disk_size_gb: int | None = None
    data_disk_sizes_gb: tuple[int, ...] = ()
    storage_account_type: str = "StandardSSD_LRS"
    public_ip: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VmState:
    """What a VM's instance view says (the codes ``ProvisioningState/*``, ``PowerState/*``, ``OSState/*``)."""

    provisioning: str | None
    power: str | None
    generalized: bool = False
    error_code: str | None = None
    error_message: str | None = None


def read_state(statuses) -> VmState:
    """Instance view statuses (objects with ``code`` / ``message``) -> :class:`VmState`."""
    provisioning = power = error_code = error_message = None
    generalized = False
    for status in statuses or []:
        kind, _, value = (status.code or "").partition("/")
        if kind == "ProvisioningState":
            provisioning, _, code = value.partition("/")
            if provisioning == "failed":
                error_code, error_message = code or "ProvisioningFailed", status.message or status.display_status
        elif kind == "PowerState":
            power = value
        elif kind == "OSState":
            generalized = value == "generalized"
    return VmState(provisioning, power, generalized, error_code, error_message)


def custom_data(script: str) -> str:
    return base64.b64encode(script.encode("utf-8")).decode("ascii")


def _os_profile(vm_name: str, spec: BuildVm) -> OSProfile:
    # Extensions stay off: Batch refuses images captured from VMs that had extensions.
    common: dict[str, Any] = {
        "admin_username": spec.admin_username,
        "custom_data": custom_data(spec.build_script),
        "allow_extension_operations": False,
    }
    if spec.os_type == "Linux":
        key_path = f"/home/{spec.admin_username}/.ssh/authorized_keys"
        return OSProfile(
            computer_name=vm_name,
            **common,
            linux_configuration=LinuxConfiguration(
                disable_password_authentication=True,
                ssh=SshConfiguration(public_keys=[SshPublicKey(path=key_path, key_data=spec.ssh_public_key)]),
            ),
        )
    auto_logon = (
        f"<AutoLogon><Password><Value>{escape(spec.admin_password or '')}</Value><PlainText>true</PlainText>"
        f"</Password><Enabled>true</Enabled><LogonCount>1</LogonCount>"
        f"<Username>{escape(spec.admin_username)}</Username></AutoLogon>"
    )
    unattend = [
        AdditionalUnattendContent(
            pass_name="OobeSystem", component_name="Microsoft-Windows-Shell-Setup", setting_name=name, content=content
        )
        for name, content in (("AutoLogon", auto_logon), ("FirstLogonCommands", WINDOWS_FIRST_LOGON))
    ]
    return OSProfile(
        computer_name=windows_computer_name(vm_name),
        admin_password=spec.admin_password,
        **common,
        windows_configuration=WindowsConfiguration(additional_unattend_content=unattend),
    )


def windows_computer_name(vm_name: str) -> str:
    """Windows computer names hold at most 15 characters."""
    return vm_name[:15].rstrip("-")


def _network_profile(vm_name: str, spec: BuildVm, tags: dict[str, str]) -> NetworkProfile:
    public_ip = None
    if spec.public_ip:
        public_ip = VirtualMachinePublicIPAddressConfiguration(
            name=PUBLIC_IP_CONFIGURATION,
            tags=tags,
            properties=VirtualMachinePublicIPAddressConfigurationProperties(delete_option="Delete"),
        )
    ip_configuration = VirtualMachineNetworkInterfaceIPConfiguration(
        name="ipconfig1",
        properties=VirtualMachineNetworkInterfaceIPConfigurationProperties(
            subnet=SubResource(id=spec.subnet_id), primary=True, public_ip_address_configuration=public_ip
        ),
    )
    nic = VirtualMachineNetworkInterfaceConfiguration(
        name=NIC_CONFIGURATION,
        tags=tags,
        properties=VirtualMachineNetworkInterfaceConfigurationProperties(
            primary=True, delete_option="Delete", ip_configurations=[ip_configuration]
        ),
    )
    return NetworkProfile(network_api_version=NETWORK_API_VERSION, network_interface_configurations=[nic])


def vm_body(vm_name: str, spec: BuildVm) -> VirtualMachine:
    """The create request: every disk and the NIC go with the VM when it is deleted (``deleteOption: Delete``)."""
    tags = {**spec.tags, BUILD_TAG: vm_name}
    disk = ManagedDiskParameters(storage_account_type=spec.storage_account_type)
    storage = StorageProfile(
        image_reference=ImageReference(**spec.image),
        os_disk=OSDisk(
            name=os_disk_name(vm_name),
            create_option="FromImage",
            caching="ReadWrite",
            disk_size_gb=spec.os_disk_size_gb,
            managed_disk=disk,
            delete_option="Delete",
        ),
        data_disks=[
            DataDisk(
                lun=lun,
                name=data_disk_name(vm_name, lun),
                create_option="Empty",
                disk_size_gb=size,
                managed_disk=disk,
                delete_option="Delete",
            )
            for lun, size in enumerate(spec.data_disk_sizes_gb)
        ],
    )
    # Said explicitly: left out, Azure may pick Trusted Launch for a Gen2 image on its own.
    trusted = spec.security_type == "TrustedLaunch"
    security = SecurityProfile(
        security_type=spec.security_type,
        uefi_settings=UefiSettings(secure_boot_enabled=True, v_tpm_enabled=True) if trusted else None,
    )
    return VirtualMachine(
        location=spec.location,
        tags=tags,
        properties=VirtualMachineProperties(
            hardware_profile=HardwareProfile(vm_size=spec.vm_size),
            storage_profile=storage,
            os_profile=_os_profile(vm_name, spec),
            network_profile=_network_profile(vm_name, spec, tags),
            security_profile=security,
            # Managed boot diagnostics: the serial console and log are where a stuck build shows why.
            diagnostics_profile=DiagnosticsProfile(boot_diagnostics=BootDiagnostics(enabled=True)),
        ),
    )


def _facts(vm) -> dict:
    """A VM as plain JSON: what the pipeline records and what a re-run compares."""
    storage = vm.storage_profile
    reference = storage.image_reference
    view = vm.instance_view
    state = read_state(view.statuses if view else [])
    nics = (vm.network_profile.network_interfaces or []) if vm.network_profile else []
    return {
        "vm_id": vm.id,
        "vm_name": vm.name,
        "location": vm.location,
        "vm_size": text(vm.hardware_profile.vm_size),
        "os_type": text(storage.os_disk.os_type),
        "hyper_v_generation": text(view.hyper_v_generation) if view else None,
        "security_type": text(vm.security_profile.security_type) if vm.security_profile else "Standard",
        "image": {
            "publisher": reference.publisher,
            "offer": reference.offer,
            "sku": reference.sku,
            "version": reference.exact_version or reference.version,
        },
        "provisioning_state": vm.provisioning_state,
        "power_state": state.power,
        "generalized": state.generalized,
        "error_code": state.error_code,
        "error_message": state.error_message,
        "os_disk_id": storage.os_disk.managed_disk.id,
        "data_disk_ids": {str(d.lun): d.managed_disk.id for d in storage.data_disks or []},
        "nic_id": nics[0].id if nics else None,
    }


class VmHook(ArmHook):
    """Build VMs and the Marketplace images they start from."""

    # --- sync ------------------------------------------------------------------------------------
    def resolve_image(self, location: str, publisher: str, offer: str, sku: str, version: str) -> dict:
        """The concrete image ``version`` names (``latest`` is the highest), with its OS type and generation."""
        found = marketplace_image(self.connection.virtual_machine_images, location, publisher, offer, sku, version)
        return {
            "publisher": publisher,
            "offer": offer,
            "sku": sku,
            "version": found.version,
            "os_type": found.os_type,
            "hyper_v_generation": found.hyper_v_generation,
            "trusted_launch": found.trusted_launch_supported,
        }

    def get_vm(self, resource_group: str, vm_name: str) -> dict | None:
        found = self.lookup(
            lambda: self.connection.virtual_machines.get(resource_group, vm_name, expand="instanceView"),
            f"build VM {vm_name}",
        )
        if found is None:
            return None
        return _facts(found)

    def begin_create_vm(self, resource_group: str, vm_name: str, spec: BuildVm) -> ArmOperation:
        body = vm_body(vm_name, spec)
        return self.start(
            lambda **kw: self.connection.virtual_machines.begin_create_or_update(resource_group, vm_name, body, **kw),
            resource_id=self.compute_id(resource_group, "virtualMachines", vm_name),
            description=f"build VM {vm_name}",
            action="fix the named setting and retry; a VM left in state Failed must be deleted first "
            "(the cleanup task)",
        )

    def begin_deallocate(self, resource_group: str, vm_name: str) -> ArmOperation:
        return self.start(
            lambda **kw: self.connection.virtual_machines.begin_deallocate(resource_group, vm_name, **kw),
            resource_id=self.compute_id(resource_group, "virtualMachines", vm_name),
            description=f"deallocate build VM {vm_name}",
        )

    def generalize(self, resource_group: str, vm_name: str) -> None:
        try:
            self.connection.virtual_machines.generalize(resource_group, vm_name)
        except HttpResponseError as exc:
            raise translate(
                exc,
                f"generalize build VM {vm_name}",
                "the VM must be powered off (deallocated) and deprovisioned by its build script",
            ) from exc

    def begin_delete_vm(self, resource_group: str, vm_name: str) -> ArmOperation:
        """Delete the VM (its disks, NIC and public IP go with it); a VM that is gone counts as deleted."""
        vm_id = self.compute_id(resource_group, "virtualMachines", vm_name)
        try:
            return self.start(
                lambda **kw: self.connection.virtual_machines.begin_delete(resource_group, vm_name, **kw),
                resource_id=vm_id,
                description=f"delete build VM {vm_name}",
            )
        except AzureResourceNotFound:
            return operation_from(vm_id, f"delete build VM {vm_name}", {})

    # --- network leftovers (no Microsoft.Network SDK here: plain ARM requests on the same pipeline) ---
    def network_leftovers(self, resource_group: str, vm_name: str) -> list[str]:
        """NICs and public IPs of the build VM that no VM holds any more (deleted VM, ``Detach``, failed create)."""
        names = {
            "networkInterfaces": f"{vm_name}-{NIC_CONFIGURATION}",
            "publicIPAddresses": f"{vm_name}-{PUBLIC_IP_CONFIGURATION}",
        }
        holder = {"networkInterfaces": "virtualMachine", "publicIPAddresses": "ipConfiguration"}
        found = []
        for kind, name in names.items():
            for item in self._network_list(resource_group, kind):
                ours = item["name"].lower() == name.lower() or (item.get("tags") or {}).get(BUILD_TAG) == vm_name
                if ours and not (item.get("properties") or {}).get(holder[kind]):
                    found.append(item["id"])
        return found

    def begin_delete_network(self, resource_id: str) -> ArmOperation:
        description = f"delete {resource_id.rsplit('/', 2)[-2]} {resource_id.rsplit('/', 1)[-1]}"
        response = self.connection.send_request(
            HttpRequest("DELETE", f"{resource_id}?api-version={NETWORK_API_VERSION}")
        )
        if response.status_code == 404:
            return operation_from(resource_id, description, {})
        if response.status_code >= 400:
            raise translate(HttpResponseError(response=response, error_format=ARMErrorFormat), description)
        return operation_from(resource_id, description, dict(response.headers))

    def _network_list(self, resource_group: str, kind: str) -> list[dict]:
        url = (
            f"/subscriptions/{self.settings.subscription_id}/resourceGroups/{resource_group}/providers/"
            f"Microsoft.Network/{kind}?api-version={NETWORK_API_VERSION}"
        )
        items: list[dict] = []
        while url:
            response = self.connection.send_request(HttpRequest("GET", url))
            if response.status_code >= 400:
                raise translate(
                    HttpResponseError(response=response, error_format=ARMErrorFormat),
                    f"{kind} in resource group {resource_group}",
                )
            body = response.json()
            items += body.get("value", [])
            url = body.get("nextLink")
        return items

    # --- async, for triggers -----------------------------------------------------------------
    async def vm_state(self, resource_group: str, vm_name: str) -> VmState | None:
        """The VM's state from its instance view; None while Azure does not know the VM (yet)."""
        client = await self.get_async_conn()
        try:
            view = await client.virtual_machines.instance_view(resource_group, vm_name)
        except ResourceNotFoundError:
            return None
        return read_state(view.statuses)
