"""Microsoft.Network as far as a build VM needs it: the seeded virtual network and subnet, network
interfaces (created inline by VMs, or reused when left behind by ``deleteOption: Detach``) and the
public IP addresses an ipConfiguration asks for.

Error codes and messages are the Network resource provider's, as real deployments print them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid

from azure_emulator import timeline
from azure_emulator.arm.common import rg_id, tracked
from azure_emulator.errors import AzureError

VNETS = "arm/virtualNetworks"
NICS = "arm/networkInterfaces"
PUBLIC_IPS = "arm/publicIPAddresses"

VNET_PREFIX = "10.0.0.0/16"
SUBNET_PREFIX = "10.0.0.0/24"
SUBNET_ID = re.compile(
    r"^(?P<vnet>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"virtualNetworks/[^/]+)/subnets/(?P<subnet>[^/]+)$",
    re.IGNORECASE,
)


def network_id(subscription: str, resource_group: str, *segments: str) -> str:
    return f"{rg_id(subscription, resource_group)}/providers/Microsoft.Network/" + "/".join(segments)


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def _digest(text: str, size: int) -> bytes:
    return hashlib.sha256(text.lower().encode()).digest()[:size]


def ensure_default(backend) -> None:
    """The virtual network and subnet build VMs join, in the default resource group."""
    s = backend.settings
    vnet_id = network_id(s.subscription_id, s.resource_group, "virtualNetworks", s.vnet_name)
    if backend.view(VNETS, vnet_id) is not None:
        return
    subnet = {
        "id": f"{vnet_id}/subnets/{s.subnet_name}",
        "name": s.subnet_name,
        "etag": _etag(),
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": SUBNET_PREFIX,
            "delegations": [],
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
    }
    doc = tracked(
        vnet_id,
        "Microsoft.Network/virtualNetworks",
        s.location,
        {},
        {
            "provisioningState": "Succeeded",
            "resourceGuid": str(uuid.uuid4()),
            "addressSpace": {"addressPrefixes": [VNET_PREFIX]},
            "subnets": [subnet],
            "virtualNetworkPeerings": [],
            "enableDdosProtection": False,
        },
    )
    doc["etag"] = _etag()
    backend.save(VNETS, vnet_id, doc)


def find_subnet(backend, subnet_id: str) -> tuple[dict, dict] | None:
    """(virtual network, subnet) named by ``subnet_id``, or None."""
    found = SUBNET_ID.match(subnet_id) if isinstance(subnet_id, str) else None
    vnet = backend.view(VNETS, found.group("vnet")) if found else None
    if vnet is None:
        return None
    subnet = next(
        (s for s in vnet["properties"]["subnets"] if s["name"].lower() == found.group("subnet").lower()), None
    )
    return (vnet, subnet) if subnet else None


def _missing_reference(reference: str, referenced_by: str) -> AzureError:
    # Real message, as quoted in Azure's "common deployment errors" troubleshooting page.
    return AzureError(
        "InvalidResourceReference",
        f"Resource {reference} referenced by resource {referenced_by} was "
        "not found. Please make sure that the referenced resource exists, and that both resources are "
        "in the same region.",
        details=[],
    )


def require_subnet(backend, subnet_id: str, location: str, referenced_by: str) -> dict:
    """The subnet a NIC joins; it must exist in the NIC's region."""
    found = find_subnet(backend, subnet_id)
    if found is None or found[0]["location"] != location:
        raise _missing_reference(subnet_id, referenced_by)
    return found[1]


def nic_in_use(nic_id: str, holder_id: str) -> AzureError:
    # Real code and status (400, not 409), as quoted in hashicorp/terraform-provider-azurerm#8105.
    return AzureError(
        "NicInUse",
        f"Network Interface {nic_id} is used by existing resource {holder_id}. In order to "
        "delete the network interface, it must be dissociated from the resource. To learn more, see "
        "aka.ms/deletenic.",
    )


def require_free_nic(backend, nic_id: str, location: str, vm_id: str) -> dict:
    """An existing NIC a VM attaches (``networkProfile.networkInterfaces``)."""
    nic = backend.view(NICS, nic_id)
    if nic is None or nic["location"] != location:
        raise _missing_reference(nic_id, vm_id)
    holder = (nic["properties"].get("virtualMachine") or {}).get("id")
    if holder and holder.lower() != vm_id.lower():
        raise nic_in_use(nic["id"], holder)
    return nic


def _private_address(backend, subnet: dict) -> str:
    used = {
        ipc["properties"].get("privateIPAddress")
        for nic in backend.views(NICS)
        for ipc in nic["properties"]["ipConfigurations"]
        if ipc["properties"]["subnet"]["id"].lower() == subnet["id"].lower()
    }
    # Azure keeps the first four addresses of a subnet (network, gateway, two for DNS) and the last one.
    for host in list(ipaddress.ip_network(subnet["properties"]["addressPrefix"]).hosts())[3:]:
        if str(host) not in used:
            return str(host)
    raise AzureError(
        "SubnetIsFull",
        f"Subnet {subnet['name']} with address prefix "
        f"{subnet['properties']['addressPrefix']} does not have enough capacity for 1 IP addresses.",
    )


def _public_ip(backend, pip_id: str, location: str, config: dict, ip_configuration_id: str) -> None:
    existing = backend.settled(PUBLIC_IPS, pip_id)
    held_by = ((existing or {}).get("properties", {}).get("ipConfiguration") or {}).get("id")
    if held_by and held_by.lower() != ip_configuration_id.lower():
        raise AzureError(
            "InvalidParameter",
            f"Public IP address {pip_id} is already in use by {held_by}.",
            target="publicIPAddressConfiguration",
        )
    props = config.get("properties") or {}
    sku = config.get("sku") or {"name": "Standard", "tier": "Regional"}
    a, b, c = _digest(pip_id, 3)
    doc = existing or tracked(
        pip_id,
        "Microsoft.Network/publicIPAddresses",
        location,
        config.get("tags") or {},
        {
            "provisioningState": "Succeeded",
            "resourceGuid": str(uuid.uuid4()),
            "ipAddress": f"20.{a}.{b}.{c}",
            "publicIPAddressVersion": props.get("publicIPAddressVersion", "IPv4"),
            "publicIPAllocationMethod": props.get(
                "publicIPAllocationMethod", "Static" if sku.get("name") == "Standard" else "Dynamic"
            ),
            "idleTimeoutInMinutes": props.get("idleTimeoutInMinutes", 4),
            "ipTags": [],
        },
    )
    doc["sku"] = sku
    doc["etag"] = _etag()
    doc["properties"]["ipConfiguration"] = {"id": ip_configuration_id}
    backend.save(PUBLIC_IPS, pip_id, doc)


def put_vm_nic(
    backend,
    nic_id: str,
    *,
    location: str,
    vm_id: str,
    config: dict,
    subnets: list[dict],
    public_ip_ids: list[str | None],
) -> dict:
    """The NIC a VM creates from one of its ``networkInterfaceConfigurations``.

    The VM's provider writes the NIC the way any client does (create or update), so a NIC left behind
    by an earlier VM of the same name is taken over, unless another VM holds it.
    """
    existing = backend.settled(NICS, nic_id)
    if existing is not None:
        require_free_nic(backend, nic_id, location, vm_id)
    props = config.get("properties") or {}
    ip_configurations = []
    for ipc, subnet, pip_id in zip(props["ipConfigurations"], subnets, public_ip_ids):
        ipc_id = f"{nic_id}/ipConfigurations/{ipc['name']}"
        ipc_props = {
            "provisioningState": "Succeeded",
            "privateIPAddress": _private_address(backend, subnet),
            "privateIPAllocationMethod": "Dynamic",
            "subnet": {"id": subnet["id"]},
            "primary": bool((ipc.get("properties") or {}).get("primary", len(subnets) == 1)),
            "privateIPAddressVersion": "IPv4",
        }
        if pip_id:
            _public_ip(backend, pip_id, location, ipc["properties"]["publicIPAddressConfiguration"], ipc_id)
            ipc_props["publicIPAddress"] = {"id": pip_id}
        ip_configurations.append(
            {
                "name": ipc["name"],
                "id": ipc_id,
                "etag": _etag(),
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": ipc_props,
            }
        )
    mac = "-".join(f"{x:02X}" for x in b"\x00\x0d\x3a" + _digest(nic_id, 3))
    doc = existing or tracked(
        nic_id,
        "Microsoft.Network/networkInterfaces",
        location,
        config.get("tags") or {},
        {
            "provisioningState": "Succeeded",
            "resourceGuid": str(uuid.uuid4()),
            "dnsSettings": {"dnsServers": [], "appliedDnsServers": []},
            "macAddress": mac,
            "enableAcceleratedNetworking": bool(props.get("enableAcceleratedNetworking", False)),
            "enableIPForwarding": bool(props.get("enableIPForwarding", False)),
            "vnetEncryptionSupported": False,
            "hostedWorkloads": [],
            "tapConfigurations": [],
            "nicType": "Standard",
            "auxiliaryMode": "None",
        },
    )
    doc["etag"] = _etag()
    doc["properties"].update(
        ipConfigurations=ip_configurations, primary=bool(props.get("primary", True)), virtualMachine={"id": vm_id}
    )
    return backend.save(NICS, nic_id, doc)


def attach_nic(backend, nic_id: str, vm_id: str, primary: bool) -> None:
    doc = backend.settled(NICS, nic_id)
    doc["properties"].update(virtualMachine={"id": vm_id}, primary=primary)
    backend.save(NICS, nic_id, doc)


def _public_ip_ids(nic: dict) -> list[str]:
    return [
        ipc["properties"]["publicIPAddress"]["id"]
        for ipc in nic["properties"]["ipConfigurations"]
        if ipc["properties"].get("publicIPAddress")
    ]


def _schedule(backend, kind: str, key: str, at: float, changes: dict) -> None:
    doc = backend.settled(kind, key)
    if doc is not None:
        timeline.schedule(doc, at, changes)
        backend.save(kind, key, doc)


def _remove(backend, kind: str, key: str, at: float) -> None:
    doc = backend.settled(kind, key)
    if doc is not None:
        doc["properties"]["provisioningState"] = "Deleting"
        timeline.schedule(doc, at, {timeline.DELETED: True})
        backend.save(kind, key, doc)


def release_vm_nics(backend, nics: list[dict], at: float) -> None:
    """What deleting a VM does to its NICs and their public IPs at emulated instant ``at``.

    ``nics`` holds ``{id, deleteOption, publicIPs: [{id, deleteOption}]}``: ``Delete`` removes the
    resource, ``Detach`` keeps it, released by the VM (a kept public IP stays on a kept NIC).
    """
    for nic in nics:
        doc = backend.settled(NICS, nic["id"])
        if doc is None:
            continue
        deleted_ips = {p["id"].lower() for p in nic["publicIPs"] if p["deleteOption"] == "Delete"}
        for pip in nic["publicIPs"]:
            if pip["deleteOption"] == "Delete":
                _remove(backend, PUBLIC_IPS, pip["id"], at)
            elif nic["deleteOption"] == "Delete":
                _schedule(backend, PUBLIC_IPS, pip["id"], at, {"properties.ipConfiguration": None})
        if nic["deleteOption"] == "Delete":
            _remove(backend, NICS, nic["id"], at)
            continue
        kept = []
        for ipc in doc["properties"]["ipConfigurations"]:
            ipc_props = dict(ipc["properties"])
            if (ipc_props.get("publicIPAddress") or {}).get("id", "").lower() in deleted_ips:
                ipc_props.pop("publicIPAddress")
            kept.append(dict(ipc, properties=ipc_props))
        _schedule(
            backend, NICS, nic["id"], at, {"properties.virtualMachine": None, "properties.ipConfigurations": kept}
        )


def delete_nic(backend, nic_id: str, duration: float) -> bool:
    """Schedule a NIC's deletion (its public IPs are released, not deleted); False if there is none."""
    doc = backend.settled(NICS, nic_id)
    if doc is None:
        return False
    holder = (doc["properties"].get("virtualMachine") or {}).get("id")
    if holder:
        raise nic_in_use(doc["id"], holder)
    at = backend.now() + duration
    for pip_id in _public_ip_ids(doc):
        _schedule(backend, PUBLIC_IPS, pip_id, at, {"properties.ipConfiguration": None})
    _remove(backend, NICS, nic_id, at)
    return True


def delete_public_ip(backend, pip_id: str, duration: float) -> bool:
    doc = backend.settled(PUBLIC_IPS, pip_id)
    if doc is None:
        return False
    held_by = (doc["properties"].get("ipConfiguration") or {}).get("id")
    if held_by:
        # Remembered real message (no source at hand).
        raise AzureError(
            "PublicIPAddressCannotBeDeleted",
            f"Public IP address {doc['id']} can not be deleted since "
            f"it is still allocated to resource {held_by}. In order to delete the public IP, "
            "disassociate/detach the Public IP address from the resource. To learn how to do this, see "
            "aka.ms/deletepublicip.",
        )
    _remove(backend, PUBLIC_IPS, pip_id, backend.now() + duration)
    return True
