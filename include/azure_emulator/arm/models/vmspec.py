"""A VM create request checked the way the Compute resource provider checks it, and turned into the
plan the VM model carries out. Nothing is created here: a request that fails leaves no trace.

Error codes and messages are the ones Azure returns where they are known (quoted in deployment logs
and provider issues); the few marked "emulator" name what this emulator does not model.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid

from azure_emulator import catalogue
from azure_emulator.arm.models import disks, marketplace, network
from azure_emulator.errors import AzureError

DELETE_OPTIONS = {"delete": "Delete", "detach": "Detach"}
SECURITY_TYPES = {"standard": "Standard", "trustedlaunch": "TrustedLaunch", "confidentialvm": "ConfidentialVM"}
NETWORK_API_VERSIONS = ("2020-11-01", "2022-11-01")
CUSTOM_DATA_LIMIT = 87380
SSH_KEY_PREFIXES = ("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-nistp")
PASSWORD_LENGTH = {"Linux": (6, 72), "Windows": (8, 123)}
WINDOWS_COMPUTER_NAME = re.compile(r"^(?!\d+$)[^`~!@#$%^&*()=+_\[\]{}\\|;:.'\",<>/?]{1,15}$")
MAX_DATA_DISK_GB = 32767

_MANAGED_DISK = {"storageAccountType": str}
_PUBLIC_IP = {
    "name": str,
    "tags": {str: str},
    "sku": {"name": str, "tier": str},
    "properties": {
        "deleteOption": str,
        "publicIPAddressVersion": str,
        "publicIPAllocationMethod": str,
        "idleTimeoutInMinutes": int,
    },
}
# The JSON types of what a VM PUT is read for (see azure_emulator.shapes), down to the NICs and public
# IP addresses it creates.
BODY = {
    "properties": {
        "hardwareProfile": {"vmSize": str},
        "storageProfile": {
            "imageReference": {
                "publisher": str,
                "offer": str,
                "sku": str,
                "version": str,
                "id": str,
                "sharedGalleryImageId": str,
                "communityGalleryImageId": str,
            },
            "osDisk": {
                "createOption": str,
                "name": str,
                "caching": str,
                "diskSizeGB": int,
                "deleteOption": str,
                "managedDisk": _MANAGED_DISK,
            },
            "dataDisks": [
                {
                    "lun": int,
                    "createOption": str,
                    "name": str,
                    "caching": str,
                    "diskSizeGB": int,
                    "deleteOption": str,
                    "managedDisk": _MANAGED_DISK,
                }
            ],
        },
        "securityProfile": {"securityType": str, "uefiSettings": {"secureBootEnabled": bool, "vTpmEnabled": bool}},
        "osProfile": {
            "computerName": str,
            "adminUsername": str,
            "adminPassword": str,
            "customData": str,
            "secrets": [dict],
            "allowExtensionOperations": bool,
            "linuxConfiguration": {
                "disablePasswordAuthentication": bool,
                "provisionVMAgent": bool,
                "ssh": {"publicKeys": [{"path": str, "keyData": str}]},
            },
            "windowsConfiguration": {
                "provisionVMAgent": bool,
                "enableAutomaticUpdates": bool,
                "timeZone": str,
                "patchSettings": dict,
                "additionalUnattendContent": [dict],
            },
        },
        "networkProfile": {
            "networkApiVersion": str,
            "networkInterfaceConfigurations": [
                {
                    "name": str,
                    "tags": {str: str},
                    "properties": {
                        "primary": bool,
                        "deleteOption": str,
                        "enableAcceleratedNetworking": bool,
                        "enableIPForwarding": bool,
                        "ipConfigurations": [
                            {
                                "name": str,
                                "properties": {
                                    "primary": bool,
                                    "subnet": {"id": str},
                                    "publicIPAddressConfiguration": _PUBLIC_IP,
                                },
                            }
                        ],
                    },
                }
            ],
            "networkInterfaces": [{"id": str, "properties": {"primary": bool, "deleteOption": str}}],
        },
        "userData": str,
    }
}


def missing(name: str) -> AzureError:
    return AzureError("InvalidParameter", f"Required parameter '{name}' is missing (null).", target=name)


def section(parent: dict, name: str) -> dict:
    """``parent[name]`` of a body checked against :data:`BODY` (an object), or {} when absent."""
    return parent.get(name) or {}


def objects(parent: dict, name: str) -> list[dict]:
    """``parent[name]`` of a body checked against :data:`BODY` (an array of objects), or [] when absent."""
    return parent.get(name) or []


def _choice(value, allowed: dict[str, str], target: str, default: str) -> str:
    if value is None:
        return default
    found = allowed.get(str(value).lower())
    if found is None:
        raise AzureError(
            "InvalidParameter",
            f"The value '{value}' of parameter '{target}' is not allowed. Allowed "
            f"values are: {', '.join(allowed.values())}.",
            target=target,
        )
    return found


def _resource_group_id(vm_id: str) -> str:
    return vm_id.split("/providers/", 1)[0]


def disk_id(vm_id: str, name: str) -> str:
    return f"{_resource_group_id(vm_id)}/providers/Microsoft.Compute/disks/{name}"


# --- size and image ----------------------------------------------------------------------------------


def size(props: dict) -> dict:
    name = section(props, "hardwareProfile").get("vmSize")
    if not name:
        raise missing("hardwareProfile.vmSize")
    found = catalogue.vm_size(str(name))
    if found is None:
        # Real message, as quoted in sassoftware/viya4-iac-azure#116.
        raise AzureError(
            "InvalidParameter",
            f"The value {name} provided for the VM size is not valid. The valid sizes "
            f"in the current region are: {','.join(s.name for s in catalogue.SIZES)}. "
            "Find out more on the available VM sizes in each region at https://aka.ms/azure-regions.",
            target="vmSize",
        )
    return found


def image(backend, props: dict) -> tuple[dict, str, dict]:
    """(catalogue image, concrete version, the imageReference the VM reports)."""
    reference = section(section(props, "storageProfile"), "imageReference")
    if not reference:
        raise missing("storageProfile.imageReference")
    if any(reference.get(k) for k in ("id", "sharedGalleryImageId", "communityGalleryImageId")):
        raise AzureError(
            "InvalidParameter",
            "The emulator creates VMs from Marketplace images only (publisher, offer, sku, version).",
            target="imageReference",
        )
    wanted = {k: str(reference.get(k) or "") for k in ("publisher", "offer", "sku")}
    wanted["version"] = str(reference.get("version") or "latest")
    found = catalogue.find_image(backend, wanted["publisher"], wanted["offer"], wanted["sku"])
    version = marketplace.resolve(found, wanted["version"]) if found else None
    if found is None or version is None:
        # Real code, status (404), target and message, as quoted in hashicorp/packer#10600.
        urn = ":".join(wanted[k] for k in ("publisher", "offer", "sku", "version"))
        raise AzureError(
            "PlatformImageNotFound",
            f"The platform image '{urn}' is not available. Verify that all "
            "fields in the storage profile are correct. For more details about storage profile "
            "information, please refer to https://aka.ms/storageprofile",
            target="imageReference",
        )
    return found, version, dict(wanted, exactVersion=version)


def check_offered(backend, vm_size: dict, location: str) -> None:
    """The size must be offered in the region, and not restricted there for the subscription (Resource SKUs)."""
    if not catalogue.usable(backend, location, vm_size["name"]):
        # Real code and message, as deployments print them (https://aka.ms/azureskunotavailable).
        raise AzureError(
            "SkuNotAvailable",
            f"The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: "
            f"{vm_size['name']}' is currently not available in location '{location}'. Please try another size or "
            "deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.",
        )


def check_architecture(found_image: dict, vm_size: dict, version: str) -> None:
    wanted = catalogue.architecture(found_image)
    if wanted != vm_size["architecture"]:
        urn = ":".join([found_image["publisher"], found_image["offer"], found_image["sku"], version])
        raise AzureError(
            "BadRequest",
            f"The selected VM size '{vm_size['name']}' has CPU architecture {vm_size['architecture']} and cannot boot "
            f"the image '{urn}', whose architecture is {wanted}. Choose a size of the image's architecture.",
        )


def check_generation(found_image: dict, vm_size: dict) -> None:
    generation = found_image["hyperVGeneration"]
    if generation not in vm_size["hyperVGenerations"]:
        # Real message and code, as quoted in microsoft/ga4gh-tes#43.
        number = generation[-1]
        raise AzureError(
            "BadRequest",
            f"The selected VM size '{vm_size['name']}' cannot boot Hypervisor Generation "
            f"'{number}'. If this was a Create operation please check that the Hypervisor Generation of "
            "the Image matches the Hypervisor Generation of the selected VM Size. If this was an Update "
            f"operation please select a Hypervisor Generation '{number}' VM Size. For more information, "
            "see https://aka.ms/azuregen2vm",
        )


def security(props: dict, found_image: dict, version: str, vm_size: dict) -> dict | None:
    """The VM's securityProfile; Trusted Launch needs a Gen2 image and a size that supports it."""
    profile = section(props, "securityProfile")
    if not profile.get("securityType"):
        return profile or None
    kind = _choice(profile["securityType"], SECURITY_TYPES, "securityProfile.securityType", "Standard")
    profile = dict(profile, securityType=kind)
    if kind == "Standard":
        return profile
    # Real messages (code BadRequest), as listed in Azure/azure-cli#28005 and #27975.
    if not marketplace.trusted_launch_supported(found_image):
        urn = ":".join([found_image["publisher"], found_image["offer"], found_image["sku"], version])
        raise AzureError(
            "BadRequest",
            f"Use of {kind} setting is not supported for the provided image '{urn}'. "
            "Please select Trusted Launch Supported Gen2 OS Image. For more information, see "
            "https://aka.ms/TrustedLaunch-FAQ.",
        )
    # No size in the catalogue is a confidential (DCasv5/ECasv5) size.
    if kind == "ConfidentialVM" or not vm_size["trustedLaunch"]:
        raise AzureError(
            "BadRequest",
            f"The VM size '{vm_size['name']}' is not supported for creation of VMs and "
            f"Virtual Machine Scale Set with '{kind}' security type. For more information, see "
            "https://aka.ms/TrustedLaunch-FAQ",
        )
    profile["uefiSettings"] = {"secureBootEnabled": True, "vTpmEnabled": True, **section(profile, "uefiSettings")}
    return profile


# --- OS profile --------------------------------------------------------------------------------------


def custom_data_digest(os_profile: dict) -> str | None:
    """customData is never returned; a digest tells a re-PUT whether it changed."""
    data = os_profile.get("customData")
    return hashlib.sha256(str(data).encode()).hexdigest() if data else None


def _check_custom_data(data: str) -> None:
    valid = len(data) <= CUSTOM_DATA_LIMIT
    if valid:
        try:
            # Line breaks, which base64 tools insert every 76 characters, are accepted (an assumption: the
            # exact rule Azure applies is not documented).
            base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            valid = False
    if not valid:
        # Real message and target, as quoted in Azure/aks-engine#1663.
        raise AzureError(
            "InvalidParameter",
            "Custom data in OSProfile must be in Base64 encoding and with a maximum "
            f"length of {CUSTOM_DATA_LIMIT} characters.",
            target="customData",
        )


def _check_password(password: str, os_type: str) -> None:
    low, high = PASSWORD_LENGTH[os_type]
    classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"\d", r"[^A-Za-z0-9]"))
    if not low <= len(password) <= high or classes < 3 or re.search(r"[\x00-\x1f]", password):
        # Remembered real message (no source at hand), like the computer-name and data-disk-count ones.
        raise AzureError(
            "InvalidParameter",
            f"The supplied password must be between {low}-{high} characters long "
            "and must satisfy at least 3 of password complexity requirements from the following: "
            "1) Contains an uppercase character 2) Contains a lowercase character 3) Contains a numeric "
            "digit 4) Contains a special character 5) Control characters are not allowed",
            target="adminPassword",
        )


def _linux_configuration(config: dict, admin: str, password: str | None) -> dict:
    disabled = bool(config.get("disablePasswordAuthentication", False))
    keys = objects(section(config, "ssh"), "publicKeys")
    # Real message and target, as quoted in terraform-provider-azurerm's Linux VM resource.
    if disabled and not keys:
        raise AzureError(
            "InvalidParameter",
            "Authentication using either SSH or by user name and password must be enabled in Linux profile.",
            target="linuxConfiguration",
        )
    if not disabled and not password:
        raise missing("adminPassword")
    for key in keys:
        # Remembered real message (no source at hand); the keyData one below likewise.
        if key.get("path") != f"/home/{admin}/.ssh/authorized_keys":
            raise AzureError(
                "InvalidParameter",
                "Destination path for SSH public keys is currently limited to its "
                f"default value /home/{admin}/.ssh/authorized_keys due to a known issue in Linux "
                "provisioning agent.",
                target="linuxConfiguration.ssh.publicKeys.path",
            )
        if not str(key.get("keyData") or "").startswith(SSH_KEY_PREFIXES):
            raise AzureError(
                "InvalidParameter",
                "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.",
                target="linuxConfiguration.ssh.publicKeys.keyData",
            )
    result = {
        "disablePasswordAuthentication": disabled,
        "provisionVMAgent": config.get("provisionVMAgent", True),
        "patchSettings": {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"},
        "enableVMAgentPlatformUpdates": False,
    }
    if keys:
        result["ssh"] = {"publicKeys": [{"path": k["path"], "keyData": k["keyData"]} for k in keys]}
    return result


def os_profile(props: dict, found_image: dict, vm_name: str) -> dict:
    """The osProfile the VM reports: never the password nor the custom data."""
    given = section(props, "osProfile")
    if not given:
        raise missing("osProfile")
    admin = given.get("adminUsername")
    if not admin:
        raise missing("adminUsername")
    computer = given.get("computerName") or vm_name
    password = given.get("adminPassword")
    os_type = found_image["osType"]
    if given.get("customData"):
        _check_custom_data(given["customData"])
    result = {
        "computerName": computer,
        "adminUsername": admin,
        "secrets": given.get("secrets") or [],
        "allowExtensionOperations": given.get("allowExtensionOperations", True),
        "requireGuestProvisionSignal": True,
    }
    if os_type == "Linux":
        result["linuxConfiguration"] = _linux_configuration(section(given, "linuxConfiguration"), admin, password)
    else:
        if not WINDOWS_COMPUTER_NAME.match(computer):
            raise AzureError(
                "InvalidParameter",
                "Windows computer name cannot be more than 15 characters long, be "
                "entirely numeric, or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] "
                "{ } \\ | ; : . ' \" , < > / ?.",
                target="computerName",
            )
        if not password:
            raise missing("adminPassword")
        windows = dict(section(given, "windowsConfiguration"))
        # Unattend content (auto-logon carries the password in clear) is kept out of what the VM reports.
        if windows.get("additionalUnattendContent"):
            windows["additionalUnattendContent"] = [
                {k: v for k, v in item.items() if k != "content"}
                for item in objects(windows, "additionalUnattendContent")
            ]
        result["windowsConfiguration"] = {
            "provisionVMAgent": True,
            "enableAutomaticUpdates": True,
            "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"},
            **windows,
        }
    if password:
        _check_password(password, os_type)
    return result


# --- disks ---------------------------------------------------------------------------------------------


def _storage_type(disk: dict, target: str) -> str:
    allowed = {name.lower(): name for name in disks.STORAGE_TIERS}
    return _choice(
        section(disk, "managedDisk").get("storageAccountType"),
        allowed,
        f"{target}.managedDisk.storageAccountType",
        "Standard_LRS",
    )


def _disk_size(value, target: str, minimum: int, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise AzureError(
            "InvalidParameter",
            f"The value '{value}' of parameter '{target}' is out of range. The value must be between 1 and {maximum}.",
            target=target,
        )
    if value < minimum:
        raise AzureError(
            "InvalidParameter",
            f"The specified disk size {value} GB is smaller than the size of the "
            f"corresponding disk in the VM image: {minimum} GB. This is not allowed. Please choose equal "
            "or greater size or do not specify an explicit size.",
            target=target,
        )
    return value


def os_disk(props: dict, found_image: dict, vm_name: str) -> dict:
    given = section(section(props, "storageProfile"), "osDisk")
    if str(given.get("createOption", "FromImage")).lower() != "fromimage":
        raise AzureError(
            "InvalidParameter",
            "The emulator creates OS disks from the image only (createOption FromImage).",
            target="osDisk.createOption",
        )
    image_gb = catalogue.os_disk_gb(found_image)
    size_gb = _disk_size(given.get("diskSizeGB", image_gb), "osDisk.diskSizeGB", image_gb, 4095)
    return {
        "osType": found_image["osType"],
        "name": given.get("name") or f"{vm_name}_OsDisk_1_{uuid.uuid4().hex}",
        "createOption": "FromImage",
        "caching": given.get("caching") or "ReadWrite",
        "managedDisk": {"storageAccountType": _storage_type(given, "osDisk")},
        "deleteOption": _choice(given.get("deleteOption"), DELETE_OPTIONS, "osDisk.deleteOption", "Detach"),
        "diskSizeGB": size_gb,
    }


def data_disks(props: dict, vm_name: str, vm_size: dict) -> list[dict]:
    given = objects(section(props, "storageProfile"), "dataDisks")
    if len(given) > vm_size["maxDataDiskCount"]:
        raise AzureError(
            "OperationNotAllowed",
            "The maximum number of data disks allowed to be attached to a VM of "
            f"this size is {vm_size['maxDataDiskCount']}.",
            target="dataDisks",
        )
    result, luns = [], set()
    for position, disk in enumerate(given):
        lun = disk.get("lun")
        if not isinstance(lun, int) or not 0 <= lun <= 63:
            raise (
                missing("dataDisk.lun")
                if lun is None
                else AzureError(
                    "InvalidParameter",
                    f"The value '{lun}' of parameter 'dataDisk.lun' is out of range. The value must "
                    "be between 0 and 63.",
                    target="dataDisk.lun",
                )
            )
        if lun in luns:
            raise AzureError("InvalidParameter", f"A disk at LUN {lun} already exists.", target="dataDisks")
        luns.add(lun)
        if str(disk.get("createOption", "")).lower() != "empty":
            raise (
                missing("dataDisk.createOption")
                if not disk.get("createOption")
                else AzureError(
                    "InvalidParameter",
                    "The emulator creates data disks empty only (createOption Empty).",
                    target="dataDisk.createOption",
                )
            )
        if disk.get("diskSizeGB") is None:
            raise missing("dataDisk.diskSizeGB")
        result.append(
            {
                "lun": lun,
                "name": disk.get("name") or f"{vm_name}_disk{position + 2}_{uuid.uuid4().hex}",
                "createOption": "Empty",
                "caching": disk.get("caching") or "None",
                "writeAcceleratorEnabled": False,
                "managedDisk": {"storageAccountType": _storage_type(disk, "dataDisk")},
                "deleteOption": _choice(disk.get("deleteOption"), DELETE_OPTIONS, "dataDisk.deleteOption", "Detach"),
                "diskSizeGB": _disk_size(disk["diskSizeGB"], "dataDisk.diskSizeGB", 1, MAX_DATA_DISK_GB),
                "toBeDetached": False,
            }
        )
    return result


def check_disk_names_free(backend, vm_id: str, disk_docs: list[dict]) -> None:
    """A VM creates its disks; a disk of the same name already in the resource group is refused."""
    seen = set()
    for disk in disk_docs:
        key = disk["name"].lower()
        if key in seen or backend.view(disks.DISKS, disk_id(vm_id, disk["name"])) is not None:
            # Remembered real message (no source at hand).
            raise AzureError(
                "ConflictingUserInput",
                f"Disk {disk['name']} already exists in resource group "
                f"{vm_id.split('/')[4].upper()}. Only CreateOption.Attach is supported.",
                target=f"/subscriptions/{vm_id.split('/')[2]}/resourceGroups/{vm_id.split('/')[4]}/"
                f"providers/Microsoft.Compute/disks/{disk['name']}",
            )
        seen.add(key)


# --- network -------------------------------------------------------------------------------------------


def _network_id(vm_id: str, *segments: str) -> str:
    return f"{_resource_group_id(vm_id)}/providers/Microsoft.Network/" + "/".join(segments)


def _inline_nic(backend, config: dict, vm_id: str, location: str) -> dict:
    """The plan for one networkInterfaceConfiguration (NIC ``<vm>-<config>``, public IP ``<vm>-<config>``)."""
    vm_name = vm_id.rsplit("/", 1)[-1]
    if not config.get("name"):
        raise missing("networkInterfaceConfigurations.name")
    props = section(config, "properties")
    nic_id = _network_id(vm_id, "networkInterfaces", f"{vm_name}-{config['name']}")
    if backend.view(network.NICS, nic_id) is not None:
        network.require_free_nic(backend, nic_id, location, vm_id)
    ip_configurations = objects(props, "ipConfigurations")
    if not ip_configurations:
        raise missing("networkInterfaceConfigurations.ipConfigurations")
    subnets: list[dict] = []
    public_ips: list[dict | None] = []
    for ipc in ip_configurations:
        if not ipc.get("name"):
            raise missing("ipConfigurations.name")
        ipc_props = section(ipc, "properties")
        subnet_id = section(ipc_props, "subnet").get("id")
        if not subnet_id:
            raise missing("ipConfigurations.subnet")
        subnets.append(network.require_subnet(backend, subnet_id, location, nic_id))
        public = section(ipc_props, "publicIPAddressConfiguration")
        if not public:
            public_ips.append(None)
            continue
        if not public.get("name"):
            raise missing("publicIPAddressConfiguration.name")
        public_ips.append(
            {
                "id": _network_id(vm_id, "publicIPAddresses", f"{vm_name}-{public['name']}"),
                "deleteOption": _choice(
                    section(public, "properties").get("deleteOption"),
                    DELETE_OPTIONS,
                    "publicIPAddressConfiguration.deleteOption",
                    "Detach",
                ),
            }
        )
    return {
        "id": nic_id,
        "config": config,
        "subnets": subnets,
        "publicIPs": public_ips,
        "existing": False,
        "primary": props.get("primary"),
        "deleteOption": _choice(
            props.get("deleteOption"), DELETE_OPTIONS, "networkInterfaceConfigurations.deleteOption", "Detach"
        ),
    }


def _existing_nic(backend, reference: dict, vm_id: str, location: str) -> dict:
    if not reference.get("id"):
        raise missing("networkInterfaces.id")
    nic = network.require_free_nic(backend, reference["id"], location, vm_id)
    props = section(reference, "properties")
    return {
        "id": nic["id"],
        "existing": True,
        "publicIPs": [],
        "primary": props.get("primary"),
        "deleteOption": _choice(props.get("deleteOption"), DELETE_OPTIONS, "networkInterfaces.deleteOption", "Detach"),
    }


def network_plan(backend, props: dict, vm_id: str, location: str) -> tuple[list[dict], str | None]:
    """(one plan per NIC, networkApiVersion); exactly one NIC is primary."""
    profile = section(props, "networkProfile")
    configs = objects(profile, "networkInterfaceConfigurations")
    references = objects(profile, "networkInterfaces")
    if not configs and not references:
        raise missing("networkProfile")
    api = profile.get("networkApiVersion")
    if configs and not api:
        raise missing("networkProfile.networkApiVersion")
    if api is not None and api not in NETWORK_API_VERSIONS:
        raise AzureError(
            "InvalidParameter",
            f"The value '{api}' of parameter 'networkProfile.networkApiVersion' is "
            f"not allowed. Allowed values are: {', '.join(NETWORK_API_VERSIONS)}.",
            target="networkProfile.networkApiVersion",
        )
    plans = [_inline_nic(backend, c, vm_id, location) for c in configs]
    plans += [_existing_nic(backend, r, vm_id, location) for r in references]
    if len(plans) == 1:
        plans[0]["primary"] = True
    elif sum(bool(p["primary"]) for p in plans) != 1:
        raise AzureError(
            "InvalidParameter",
            f"Virtual machine {vm_id.rsplit('/', 1)[-1]} must have one network interface set as the primary.",
            target="networkProfile",
        )
    for plan in plans:
        plan["primary"] = bool(plan["primary"])
    return plans, api
