"""The build VM: create it from a Marketplace image with the user's build script, then, once the
script has powered it off, deallocate and generalize it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any

from airflow.sdk.log import mask_secret

from imagepool.errors import AzureOperationFailed, AzureResourceNotFound
from imagepool.hooks.vm import POWERED_OFF, BuildVm, VmHook, custom_data
from imagepool.links.portal import BuildVmLink
from imagepool.operators.base import ImagepoolBaseOperator, for_good
from imagepool.triggers.arm import ArmOperationTrigger

# Azure VM names are 1-64 characters; the build VM's also name its disks, NIC and snapshots, so
# they keep to characters every one of those accepts.
VM_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", re.IGNORECASE)
SUBNET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/"
    r"[^/]+/subnets/[^/]+$",
    re.IGNORECASE,
)
IMAGE_VERSION = re.compile(r"^(latest|\d+\.\d+\.\d+)$", re.IGNORECASE)
SSH_PUBLIC_KEY = re.compile(r"^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( \S.*)?$")
ADMIN_USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$", re.IGNORECASE)
# Names Azure refuses for the admin account.
RESERVED_USERNAMES = {
    "administrator",
    "admin",
    "user",
    "user1",
    "test",
    "user2",
    "test1",
    "user3",
    "admin1",
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin2",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test2",
    "test3",
    "user4",
    "user5",
}
# Azure's limit on osProfile.customData, counted in base64 characters.
CUSTOM_DATA_LIMIT = 87380
OS_TYPES = ("Linux", "Windows")
SECURITY_TYPES = ("Standard", "TrustedLaunch")
# Storage types an OS disk can use (Premium SSD v2 and Ultra Disk cannot hold an OS).
STORAGE_TYPES = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS")
MAX_DATA_DISKS, MAX_DATA_DISK_GB, MAX_OS_DISK_GB = 64, 32767, 4095
CLEANUP_ADVICE = "delete it with the cleanup task (AzureBuildResourcesCleanupOperator) or in the portal, then retry"


def vm_name_problems(vm_name: Any) -> list[str]:
    if isinstance(vm_name, str) and VM_NAME.match(vm_name):
        return []
    return [f"vm_name {vm_name!r} must be 1-64 letters, digits or hyphens, starting and ending with a letter or digit"]


def password_problems(password: str) -> list[str]:
    """Azure's rule for Windows admin passwords; the message never shows the password."""
    classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"\d", r"[^A-Za-z0-9]"))
    if 12 <= len(password) <= 123 and classes >= 3 and not re.search(r"[\x00-\x1f]", password):
        return []
    return [
        "admin_password must be 12-123 characters with at least 3 of: upper case, lower case, digit, special "
        "character (its value is not shown)"
    ]


def random_password() -> str:
    """A password meeting Azure's Windows rule (every character class, 36 characters)."""
    return "Aa1!" + secrets.token_urlsafe(24)


def build_vm_result(vm: dict, resource_group: str) -> dict:
    """The create operator's return value (plain JSON); ``disks`` feeds the snapshot task's ``expand_kwargs``."""
    data = sorted(vm["data_disk_ids"].items(), key=lambda item: int(item[0]))
    return {
        "vm_id": vm["vm_id"],
        "vm_name": vm["vm_name"],
        "resource_group": resource_group,
        "location": vm["location"],
        "vm_size": vm["vm_size"],
        "os_type": vm["os_type"],
        "hyper_v_generation": vm["hyper_v_generation"],
        "security_type": vm["security_type"],
        "image": vm["image"],
        "image_version": vm["image"]["version"],
        "os_disk_id": vm["os_disk_id"],
        "data_disk_ids": dict(data),
        "nic_id": vm["nic_id"],
        "disks": [{"disk_id": vm["os_disk_id"], "lun": "os"}] + [{"disk_id": i, "lun": int(lun)} for lun, i in data],
    }


class AzureBuildVmCreateOperator(ImagepoolBaseOperator):
    """Create the build VM that runs the build script; return what the pipeline records about it.

    The VM boots a Marketplace image (``latest`` is resolved to a concrete version first) with
    managed disks and a NIC in ``subnet_id``, all deleted with the VM; no public IP unless asked,
    no VM extensions, SSH key login only on Linux. The build script is the VM's custom data: run by
    cloud-init on Linux, by the first logon on Windows. It must end by deprovisioning and powering
    the VM off (see :class:`~imagepool.sensors.vm.AzureBuildVmFinishedSensor`). A VM of the same
    name from an earlier try is reused.

    Returns ``{vm_id, vm_name, resource_group, location, vm_size, os_type, hyper_v_generation,
    security_type, image: {publisher, offer, sku, version}, image_version, os_disk_id,
    data_disk_ids: {"<lun>": id}, nic_id, disks: [{disk_id, lun}]}`` (``lun`` is ``"os"`` for the
    OS disk).

    :param vm_name: the build VM's name; its disks, NIC and snapshots are named after it (templated).
    :param location: Azure region (templated).
    :param vm_size: VM size, e.g. ``Standard_D4s_v5`` (templated).
    :param image_publisher: Marketplace image publisher (templated).
    :param image_offer: Marketplace image offer (templated).
    :param image_sku: Marketplace image SKU (templated).
    :param image_version: ``latest`` (default) or a concrete version (templated).
    :param subnet_id: resource id of the subnet the VM joins (templated).
    :param build_script: the build script, or a path ending ``.sh`` / ``.ps1`` read as a template (templated).
    :param os_type: ``Linux`` (default) or ``Windows``; must match the image.
    :param security_type: ``Standard`` (default) or ``TrustedLaunch`` (secure boot and vTPM; needs a Gen2 image).
    :param admin_username: the admin account (default ``azureuser``).
    :param ssh_public_key: OpenSSH public key for the admin account; required on Linux (templated).
    :param admin_password: Windows only (Azure requires one); default: a random one nobody needs, since the build
        is unattended; never logged nor returned (templated).
    :param os_disk_size_gb: OS disk size; default: the image's.
    :param data_disk_sizes_gb: sizes of empty data disks, at LUN 0, 1, ... (templated); default none.
    :param storage_account_type: storage type of every disk (default ``StandardSSD_LRS``).
    :param public_ip: give the VM a public IP address (default False).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param tags: tags for the VM, NIC and public IP (templated).
    :param timeout: seconds to wait for the VM to be provisioned (default 1800).
    """

    template_fields: Sequence[str] = (
        *ImagepoolBaseOperator.template_fields,
        "vm_name",
        "location",
        "vm_size",
        "image_publisher",
        "image_offer",
        "image_sku",
        "image_version",
        "subnet_id",
        "build_script",
        "ssh_public_key",
        "admin_password",
        "data_disk_sizes_gb",
        "resource_group_name",
        "tags",
    )
    template_ext: Sequence[str] = (".sh", ".ps1")
    operator_extra_links = (BuildVmLink(),)

    def __init__(
        self,
        *,
        vm_name: str,
        location: str,
        vm_size: str,
        image_publisher: str,
        image_offer: str,
        image_sku: str,
        subnet_id: str,
        build_script: str,
        image_version: str = "latest",
        os_type: str = "Linux",
        security_type: str = "Standard",
        admin_username: str = "azureuser",
        ssh_public_key: str | None = None,
        admin_password: str | None = None,
        os_disk_size_gb: int | None = None,
        data_disk_sizes_gb: list[int] | None = None,
        storage_account_type: str = "StandardSSD_LRS",
        public_ip: bool = False,
        resource_group_name: str | None = None,
        tags: dict[str, str] | None = None,
        timeout: float = 1800,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vm_name = vm_name
        self.location = location
        self.vm_size = vm_size
        self.image_publisher, self.image_offer, self.image_sku = image_publisher, image_offer, image_sku
        self.image_version = image_version
        self.subnet_id = subnet_id
        self.build_script = build_script
        self.os_type = os_type
        self.security_type = security_type
        self.admin_username = admin_username
        self.ssh_public_key = ssh_public_key
        self.admin_password = admin_password
        self.os_disk_size_gb = os_disk_size_gb
        self.data_disk_sizes_gb = data_disk_sizes_gb or []
        self.storage_account_type = storage_account_type
        self.public_ip = public_ip
        self.resource_group_name = resource_group_name
        self.tags = tags or {}
        self.timeout = timeout

    # --- checks on rendered values -------------------------------------------------------------------
    def _problems(self) -> list[str]:
        problems = vm_name_problems(self.vm_name)
        for name in ("location", "vm_size", "image_publisher", "image_offer", "image_sku"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                problems.append(f"{name} is required")
        if not isinstance(self.image_version, str) or not IMAGE_VERSION.match(self.image_version):
            problems.append(f"image_version {self.image_version!r} must be 'latest' or MAJOR.MINOR.PATCH")
        if not isinstance(self.subnet_id, str) or not SUBNET_ID.match(self.subnet_id):
            problems.append(
                f"subnet_id {self.subnet_id!r} must be a subnet resource id (/subscriptions/.../"
                "virtualNetworks/<vnet>/subnets/<subnet>)"
            )
        for name, allowed in (
            ("os_type", OS_TYPES),
            ("security_type", SECURITY_TYPES),
            ("storage_account_type", STORAGE_TYPES),
        ):
            if getattr(self, name) not in allowed:
                problems.append(f"{name} {getattr(self, name)!r} must be one of {', '.join(allowed)}")
        problems += self._login_problems() + self._disk_problems() + self._script_problems()
        if not isinstance(self.tags, dict) or not all(isinstance(v, str) for v in self.tags.values()):
            problems.append("tags must map names to string values")
        return problems

    def _login_problems(self) -> list[str]:
        problems = []
        if (
            not isinstance(self.admin_username, str)
            or not ADMIN_USERNAME.match(self.admin_username)
            or self.admin_username.lower() in RESERVED_USERNAMES
        ):
            problems.append(
                f"admin_username {self.admin_username!r} must be 1-32 letters, digits, '_' or '-' and "
                "not a name Azure reserves (admin, root, administrator, ...)"
            )
        if self.os_type == "Linux":
            if not isinstance(self.ssh_public_key, str) or not SSH_PUBLIC_KEY.match(self.ssh_public_key.strip()):
                problems.append(
                    "ssh_public_key is required for a Linux build VM and must be an OpenSSH public key "
                    "(ssh-rsa / ssh-ed25519 / ecdsa-sha2-*)"
                )
            if self.admin_password:
                problems.append(
                    "admin_password must not be set for a Linux build VM: it logs in with ssh_public_key only"
                )
        elif self.os_type == "Windows":
            if self.admin_password is not None and not isinstance(self.admin_password, str):
                problems.append("admin_password must be a string")
            elif self.admin_password:
                problems += password_problems(self.admin_password)
            if self.ssh_public_key:
                problems.append("ssh_public_key applies to Linux build VMs only")
        return problems

    def _disk_problems(self) -> list[str]:
        problems = []
        size = self.os_disk_size_gb
        if size is not None and (
            not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_OS_DISK_GB
        ):
            problems.append(f"os_disk_size_gb {size!r} must be a whole number of GiB, 1-{MAX_OS_DISK_GB}")
        sizes = self.data_disk_sizes_gb
        if (
            not isinstance(sizes, (list, tuple))
            or len(sizes) > MAX_DATA_DISKS
            or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_DATA_DISK_GB for s in sizes)
        ):
            problems.append(
                f"data_disk_sizes_gb {sizes!r} must list at most {MAX_DATA_DISKS} whole numbers of GiB, "
                f"each 1-{MAX_DATA_DISK_GB}"
            )
        return problems

    def _script_problems(self) -> list[str]:
        if not isinstance(self.build_script, str) or not self.build_script.strip():
            return ["build_script is empty: it must install the software, deprovision and power the VM off"]
        encoded = len(custom_data(self.build_script))
        if encoded > CUSTOM_DATA_LIMIT:
            return [
                f"build_script is {encoded} characters in base64; Azure's custom data limit is "
                f"{CUSTOM_DATA_LIMIT}: download the bulk of the build from storage instead"
            ]
        return []

    def _mismatch(self, vm: dict) -> AzureOperationFailed | None:
        """The error to raise when the existing VM was made with other settings, else None."""
        wanted = {
            "vm_size": self.vm_size,
            "os_type": self.os_type,
            "security_type": self.security_type,
            "image.publisher": self.image_publisher,
            "image.offer": self.image_offer,
            "image.sku": self.image_sku,
        }
        if self.image_version.lower() != "latest":
            wanted["image.version"] = self.image_version
        have = {**vm, **{f"image.{k}": v for k, v in vm["image"].items()}}
        differing = [
            f"{k} is {have[k]!r}, wanted {v!r}" for k, v in wanted.items() if str(have[k] or "").lower() != v.lower()
        ]
        if not differing:
            return None
        return AzureOperationFailed(
            f"build VM {vm['vm_id']}",
            "BuildVmMismatch",
            "; ".join(differing),
            f"a VM of this name exists with other settings: {CLEANUP_ADVICE}, or choose another vm_name",
        )

    # --- execution -----------------------------------------------------------------------------------
    def execute(self, context):
        self.reject(self._problems())
        if self.os_type == "Windows" and not self.admin_password:
            # Azure requires a Windows password; the build is unattended, so nobody needs to know it.
            self.admin_password = random_password()
        if self.admin_password:
            mask_secret(self.admin_password)
        hook = VmHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        existing = hook.get_vm(group, self.vm_name)
        if existing:
            if existing["provisioning_state"] == "Failed":
                # Azure never repairs a Failed VM in place: trying again here would only find it Failed again.
                raise for_good(
                    AzureOperationFailed(
                        f"build VM {existing['vm_id']}",
                        existing["error_code"] or "Failed",
                        existing["error_message"] or "the VM is in provisioning state Failed",
                        f"an earlier try left it broken: {CLEANUP_ADVICE}",
                    )
                )
            mismatch = self._mismatch(existing)
            if mismatch:
                raise mismatch
            if existing["provisioning_state"] == "Succeeded":
                BuildVmLink.persist(context, hook.settings, existing["vm_id"])
                self.log.info(
                    "Build VM %s already exists (image version %s); reusing it",
                    existing["vm_id"],
                    existing["image"]["version"],
                )
                return build_vm_result(existing, group)
        # A VM an earlier try started keeps the image version it was created with, even if `latest` moved on.
        version = existing["image"]["version"] if existing else self.image_version
        image = hook.resolve_image(self.location, self.image_publisher, self.image_offer, self.image_sku, version)
        self.reject(self._image_problems(image))
        self.log.info(
            "Building from %s:%s:%s:%s (%s, Hyper-V %s)",
            image["publisher"],
            image["offer"],
            image["sku"],
            image["version"],
            image["os_type"],
            image["hyper_v_generation"],
        )
        operation = hook.begin_create_vm(group, self.vm_name, self._spec(image))
        BuildVmLink.persist(context, hook.settings, operation.resource_id)
        return self.wait_for(
            context,
            ArmOperationTrigger(
                operation=operation.to_dict(),
                action=f"the VM is left in state Failed: {CLEANUP_ADVICE}",
                **self.polling(self.timeout),
            ),
        )

    def _image_problems(self, image: dict) -> list[str]:
        urn = ":".join(image[k] for k in ("publisher", "offer", "sku", "version"))
        problems = []
        if image["os_type"] != self.os_type:
            problems.append(f"os_type is {self.os_type!r} but image {urn} is {image['os_type']}")
        if self.security_type == "TrustedLaunch" and not image["trusted_launch"]:
            problems.append(
                f"security_type 'TrustedLaunch' needs a Gen2 image that supports it; {urn} is "
                f"Hyper-V {image['hyper_v_generation']}: choose its Gen2 SKU or security_type 'Standard'"
            )
        return problems

    def _spec(self, image: dict) -> BuildVm:
        return BuildVm(
            location=self.location,
            vm_size=self.vm_size,
            os_type=self.os_type,
            image={k: image[k] for k in ("publisher", "offer", "sku", "version")},
            security_type=self.security_type,
            subnet_id=self.subnet_id,
            admin_username=self.admin_username,
            build_script=self.build_script,
            ssh_public_key=self.ssh_public_key.strip() if self.ssh_public_key else None,
            admin_password=self.admin_password,
            os_disk_size_gb=self.os_disk_size_gb,
            data_disk_sizes_gb=tuple(self.data_disk_sizes_gb),
            storage_account_type=self.storage_account_type,
            public_ip=self.public_ip,
            tags=self.tags,
        )

    def execute_complete(self, context, event=None):
        # Azure ending the creation Failed is final: the VM stays Failed; the message says what can mend it.
        self.check_event(event, verdicts_final=True)
        hook = VmHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        vm = hook.get_vm(group, self.vm_name)
        if vm is None:
            raise AzureResourceNotFound(
                f"build VM {self.vm_name}",
                "ResourceNotFound",
                "the VM vanished right after it was created",
                "check the activity log for who deleted it, then retry",
            )
        return build_vm_result(vm, group)


class AzureBuildVmGeneralizeOperator(ImagepoolBaseOperator):
    """Deallocate the powered-off build VM and mark it generalized; return its resource id.

    Run it after :class:`~imagepool.sensors.vm.AzureBuildVmFinishedSensor`: a VM still running its
    build is refused, since capturing it would give a broken image. Already deallocated or
    generalized is fine (a retry).

    :param vm_name: the build VM (templated).
    :param resource_group_name: resource group (templated); default: the connection's.
    :param timeout: seconds to wait for the deallocation (default 1800).
    """

    template_fields: Sequence[str] = (*ImagepoolBaseOperator.template_fields, "vm_name", "resource_group_name")
    operator_extra_links = (BuildVmLink(),)

    def __init__(self, *, vm_name: str, resource_group_name: str | None = None, timeout: float = 1800, **kwargs):
        super().__init__(**kwargs)
        self.vm_name = vm_name
        self.resource_group_name = resource_group_name
        self.timeout = timeout

    def execute(self, context):
        self.reject(vm_name_problems(self.vm_name))
        hook = VmHook(self.azure_conn_id)
        group = hook.resource_group(self.resource_group_name)
        vm = hook.get_vm(group, self.vm_name)
        if vm is None:
            raise AzureResourceNotFound(
                f"build VM {self.vm_name} in {group}",
                "ResourceNotFound",
                "the VM does not exist",
                "create it first (AzureBuildVmCreateOperator)",
            )
        BuildVmLink.persist(context, hook.settings, vm["vm_id"])
        if vm["generalized"]:
            self.log.info("Build VM %s is already generalized", vm["vm_id"])
            return vm["vm_id"]
        if vm["power_state"] not in (*POWERED_OFF, "deallocating"):
            raise AzureOperationFailed(
                f"build VM {vm['vm_id']}",
                "BuildNotFinished",
                f"the VM is {vm['power_state'] or 'in an unknown power state'}",
                "wait for AzureBuildVmFinishedSensor: the build script must power the VM off when it is done",
            )
        if vm["power_state"] == "deallocated":
            return self._generalize(hook, group)
        operation = hook.begin_deallocate(group, self.vm_name)
        return self.wait_for(context, ArmOperationTrigger(operation=operation.to_dict(), **self.polling(self.timeout)))

    def execute_complete(self, context, event=None):
        self.check_event(event)
        hook = VmHook(self.azure_conn_id)
        return self._generalize(hook, hook.resource_group(self.resource_group_name))

    def _generalize(self, hook: VmHook, group: str) -> str:
        hook.generalize(group, self.vm_name)
        self.log.info("Build VM %s is deallocated and generalized", self.vm_name)
        return hook.compute_id(group, "virtualMachines", self.vm_name)
