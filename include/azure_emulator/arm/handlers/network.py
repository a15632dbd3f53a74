"""Microsoft.Network: virtual networks and subnets (read), network interfaces and public IP addresses
(read, list, delete). NICs and public IPs come into being with the VMs that ask for them.
"""

from __future__ import annotations

from azure_emulator.arm import lro
from azure_emulator.arm.common import NETWORK, api_version, listing, not_found, public, resource_group, respond
from azure_emulator.arm.models import network as model
from azure_emulator.routing import NAME, Call

VNET = rf"{NETWORK}/virtualNetworks/(?P<vnet>{NAME})"
SUBNET = rf"{VNET}/subnets/(?P<subnet>{NAME})"
NIC = rf"{NETWORK}/networkInterfaces/(?P<nic>{NAME})"
PUBLIC_IP = rf"{NETWORK}/publicIPAddresses/(?P<ip>{NAME})"


def _id(call: Call, *segments: str) -> str:
    return model.network_id(call.params["subscription"], call.params["resource_group"], *segments)


def _document(view: dict) -> dict:
    """A released resource has no ``virtualMachine`` / ``ipConfiguration`` at all, rather than null."""
    doc = public(view)
    doc["properties"] = {k: v for k, v in doc["properties"].items() if v is not None}
    return doc


def _get(call: Call, kind: str, resource_type: str, *segments: str) -> dict:
    api_version(call)
    found = call.backend.view(kind, _id(call, *segments))
    if found is None:
        raise not_found(resource_type, segments[-1], call)
    return found


async def get_vnet(call: Call):
    return respond(
        public(_get(call, model.VNETS, "Microsoft.Network/virtualNetworks", "virtualNetworks", call.params["vnet"]))
    )


async def list_vnets(call: Call):
    api_version(call)
    resource_group(call)
    return listing(call.backend.views(model.VNETS, _id(call, "virtualNetworks", "")))


async def get_subnet(call: Call):
    vnet = _get(call, model.VNETS, "Microsoft.Network/virtualNetworks", "virtualNetworks", call.params["vnet"])
    subnet = next(
        (s for s in vnet["properties"]["subnets"] if s["name"].lower() == call.params["subnet"].lower()), None
    )
    if subnet is None:
        raise not_found(
            "Microsoft.Network/virtualNetworks/subnets", f"{call.params['vnet']}/{call.params['subnet']}", call
        )
    return respond(subnet)


async def list_subnets(call: Call):
    vnet = _get(call, model.VNETS, "Microsoft.Network/virtualNetworks", "virtualNetworks", call.params["vnet"])
    return respond({"value": vnet["properties"]["subnets"]})


async def get_nic(call: Call):
    return respond(
        _document(
            _get(call, model.NICS, "Microsoft.Network/networkInterfaces", "networkInterfaces", call.params["nic"])
        )
    )


async def list_nics(call: Call):
    api_version(call)
    resource_group(call)
    nics = call.backend.views(model.NICS, _id(call, "networkInterfaces", ""))
    return respond({"value": [_document(n) for n in nics]})


async def delete_nic(call: Call):
    api_version(call)
    duration = call.backend.durations["nic_delete"]
    if not model.delete_nic(call.backend, _id(call, "networkInterfaces", call.params["nic"]), duration):
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, namespace="Microsoft.Network")
    return lro.accepted(call, op)


async def get_public_ip(call: Call):
    return respond(
        _document(
            _get(call, model.PUBLIC_IPS, "Microsoft.Network/publicIPAddresses", "publicIPAddresses", call.params["ip"])
        )
    )


async def list_public_ips(call: Call):
    api_version(call)
    resource_group(call)
    addresses = call.backend.views(model.PUBLIC_IPS, _id(call, "publicIPAddresses", ""))
    return respond({"value": [_document(p) for p in addresses]})


async def delete_public_ip(call: Call):
    api_version(call)
    # Releasing an address takes about as long as deleting the NIC that held it (estimate).
    duration = call.backend.durations["nic_delete"]
    if not model.delete_public_ip(call.backend, _id(call, "publicIPAddresses", call.params["ip"]), duration):
        return respond(None, 204)
    op = lro.begin(call, location=call.backend.settings.location, duration=duration, namespace="Microsoft.Network")
    return lro.accepted(call, op)


ROUTES = [
    ("GET", VNET, get_vnet),
    ("GET", rf"{NETWORK}/virtualNetworks", list_vnets),
    ("GET", SUBNET, get_subnet),
    ("GET", rf"{VNET}/subnets", list_subnets),
    ("GET", NIC, get_nic),
    ("DELETE", NIC, delete_nic),
    ("GET", rf"{NETWORK}/networkInterfaces", list_nics),
    ("GET", PUBLIC_IP, get_public_ip),
    ("DELETE", PUBLIC_IP, delete_public_ip),
    ("GET", rf"{NETWORK}/publicIPAddresses", list_public_ips),
]
