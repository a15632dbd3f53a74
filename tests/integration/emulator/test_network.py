"""Microsoft.Network over plain REST (no azure-mgmt-network is installed): the seeded virtual network,
NICs and public IPs that VMs create, and the rules for deleting them.
"""

from __future__ import annotations

import pytest

from tests.integration import clients
from tests.integration.emulator.vm_builders import build_vm, nic_configuration


@pytest.fixture(scope="module")
def network(info, credential):
    with clients.network_session(info, credential) as session:
        yield session


def test_seeded_virtual_network_and_subnet(network, info):
    subnet = network.get(info["subnet_id"]).json()
    assert subnet["id"] == info["subnet_id"]
    assert subnet["properties"]["addressPrefix"] == "10.0.0.0/24"
    vnet = network.get(info["subnet_id"].rsplit("/subnets/", 1)[0]).json()
    assert vnet["type"] == "Microsoft.Network/virtualNetworks"
    assert vnet["location"] == info["location"]
    assert [s["name"] for s in vnet["properties"]["subnets"]] == [subnet["name"]]
    group = f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}"
    assert vnet["name"] in [
        v["name"] for v in network.get(f"{group}/providers/Microsoft.Network/virtualNetworks").json()["value"]
    ]


def test_missing_nic_is_not_found_and_missing_delete_is_204(network, info):
    nic = (
        f"/subscriptions/{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        "Microsoft.Network/networkInterfaces/ghost"
    )
    assert network.get(nic).json()["error"]["code"] == "ResourceNotFound"
    assert network.delete(nic).status_code == 204
    assert network.get(nic, params={}).json()["error"]["code"] == "MissingApiVersionParameter"


def test_vm_nics_and_public_ips(network, compute, info):
    rg = info["resource_group"]
    body = build_vm(info, nic=nic_configuration(info, name="nic0", public_ip_delete_option="Detach"))
    vm = compute.virtual_machines.begin_create_or_update(rg, "vm-net", body).result()
    nic_id = vm.network_profile.network_interfaces[0].id
    assert nic_id.endswith("/networkInterfaces/vm-net-nic0")
    nic = network.get(nic_id).json()
    ip_configuration = nic["properties"]["ipConfigurations"][0]
    assert ip_configuration["properties"]["subnet"]["id"] == info["subnet_id"]
    public_ip = network.get(ip_configuration["properties"]["publicIPAddress"]["id"]).json()
    assert public_ip["properties"]["ipConfiguration"]["id"] == ip_configuration["id"]
    assert public_ip["sku"]["name"] == "Standard"
    refused = network.delete(public_ip["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "PublicIPAddressCannotBeDeleted")
    group = f"/subscriptions/{info['subscription_id']}/resourceGroups/{rg}/providers/Microsoft.Network"
    assert nic_id in [n["id"] for n in network.get(f"{group}/networkInterfaces").json()["value"]]

    compute.virtual_machines.begin_delete(rg, "vm-net").result()
    # The NIC was deleted with the VM; its public IP (deleteOption Detach) stays, released.
    assert network.get(nic_id).status_code == 404
    released = network.get(public_ip["id"]).json()
    assert "ipConfiguration" not in released["properties"]
    assert network.delete(public_ip["id"]).status_code == 202
