"""The least-privilege Azure roles (include/azure/): well-formed, and exactly what the hooks use.

``imagepool-role.json`` holds the actions on resources, assigned on resource groups and Batch
accounts; ``imagepool-subscription-role.json`` the reads whose URL sits outside any resource group
(regions, Resource SKUs, compute usage, Marketplace images, the subscription's Batch accounts, operation
status), assigned on the subscription; ``imagepool-public-ip-role.json``
what a build VM with a public IP adds. Two tables tie the role to the code. ``PERMISSIONS`` maps every hook method to the actions its Azure
calls need; a hook method missing from it fails, so a new operation cannot land without its
permission. ``SDK_MEMBERS`` maps every SDK client member the hooks touch to its actions; an SDK call
added inside an existing method fails the same way until it is listed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from functools import cached_property
from pathlib import Path

import pytest

import imagepool.hooks
from imagepool.hooks.base import ImagepoolAzureHook

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "include" / "azure" / "imagepool-role.json"
SUBSCRIPTION_ROLE = ROOT / "include" / "azure" / "imagepool-subscription-role.json"
PUBLIC_IP_ROLE = ROOT / "include" / "azure" / "imagepool-public-ip-role.json"
ALL_ROLES = [ROLE, SUBSCRIPTION_ROLE, PUBLIC_IP_ROLE]
HOOKS_DIR = ROOT / "plugins" / "imagepool" / "hooks"

# Azure's operation strings: provider namespace, resource type path, then read/write/delete or <verb>/action.
ACTION = re.compile(r"^Microsoft\.[A-Za-z]+(/[A-Za-z]+)+/(read|write|delete|[A-Za-z]+/action)$")
ROLE_KEYS = {
    "Name",
    "IsCustom",
    "Description",
    "Actions",
    "NotActions",
    "DataActions",
    "NotDataActions",
    "AssignableScopes",
}
SCOPE = re.compile(r"^/subscriptions/(<subscription-id>|[0-9a-f-]{36})$")
# /subscriptions/{id}/providers/{namespace}/locations/... and /subscriptions/{id}/locations: no resource group
# scope contains these URLs.
LOCATION_LEVEL = re.compile(r"^Microsoft\.[A-Za-z]+/(subscriptions/)?locations/")

MARKETPLACE = "Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions/read"
VM_READ = "Microsoft.Compute/virtualMachines/read"
VM_WRITE = "Microsoft.Compute/virtualMachines/write"
VM_DELETE = "Microsoft.Compute/virtualMachines/delete"
VM_VIEW = "Microsoft.Compute/virtualMachines/instanceView/read"
DISK_READ, DISK_WRITE, DISK_DELETE = (f"Microsoft.Compute/disks/{v}" for v in ("read", "write", "delete"))
DISK_ACCESS = "Microsoft.Compute/disks/beginGetAccess/action"
SNAPSHOT_READ, SNAPSHOT_WRITE, SNAPSHOT_DELETE = (
    f"Microsoft.Compute/snapshots/{v}" for v in ("read", "write", "delete")
)
IMAGE_READ, IMAGE_WRITE, IMAGE_DELETE = (f"Microsoft.Compute/images/{v}" for v in ("read", "write", "delete"))
GALLERY_READ, GALLERY_WRITE = "Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/write"
DEFINITION_READ = "Microsoft.Compute/galleries/images/read"
DEFINITION_WRITE = "Microsoft.Compute/galleries/images/write"
VERSION_READ, VERSION_WRITE, VERSION_DELETE = (
    f"Microsoft.Compute/galleries/images/versions/{v}" for v in ("read", "write", "delete")
)
SUBNET_JOIN = "Microsoft.Network/virtualNetworks/subnets/join/action"
NIC_READ, NIC_WRITE, NIC_DELETE = (f"Microsoft.Network/networkInterfaces/{v}" for v in ("read", "write", "delete"))
NIC_JOIN = "Microsoft.Network/networkInterfaces/join/action"
PIP_READ, PIP_WRITE, PIP_DELETE = (f"Microsoft.Network/publicIPAddresses/{v}" for v in ("read", "write", "delete"))
PIP_JOIN = "Microsoft.Network/publicIPAddresses/join/action"
# Where Azure serves the status of a started operation: VMs and images, disks and snapshots, galleries, network.
OPERATION_STATUS = {
    "Microsoft.Compute/locations/operations/read",
    "Microsoft.Compute/locations/diskOperations/read",
    "Microsoft.Compute/locations/capsOperations/read",
    "Microsoft.Network/locations/operations/read",
}
BATCH_ACCOUNT_READ = "Microsoft.Batch/batchAccounts/read"
LOCATIONS_READ = "Microsoft.Resources/subscriptions/locations/read"
SKUS_READ = "Microsoft.Compute/skus/read"
USAGES_READ = "Microsoft.Compute/locations/usages/read"
VNET_READ = "Microsoft.Network/virtualNetworks/read"
# Reads whose URL is the subscription's, outside any resource group: the subscription role grants them.
SUBSCRIPTION_LEVEL = {LOCATIONS_READ, SKUS_READ, USAGES_READ, MARKETPLACE, BATCH_ACCOUNT_READ} | OPERATION_STATUS
POOL_READ, POOL_WRITE, POOL_DELETE = (f"Microsoft.Batch/batchAccounts/pools/{v}" for v in ("read", "write", "delete"))
POOL_STOP_RESIZE = "Microsoft.Batch/batchAccounts/pools/stopResize/action"
# Batch's data actions: jobs (their tasks included) are authorized as data, pools as resources.
JOB_READ, JOB_WRITE, JOB_DELETE = (f"Microsoft.Batch/batchAccounts/jobs/{v}" for v in ("read", "write", "delete"))
# A pool's nodes boot the gallery image as the caller: Batch reads the version and its disks on its behalf.
GALLERY_IMAGE_USE = {GALLERY_READ, DEFINITION_READ, VERSION_READ, DISK_ACCESS}

# What each hook method's Azure calls need. Methods that call nothing map to an empty set.
PERMISSIONS: dict[str, set[str]] = {
    "ArmHook._probe": {GALLERY_READ},
    "ArmHook.resource_group": set(),
    "ArmHook.compute_id": set(),
    # Runs the read its caller hands it, which the caller's entry accounts for.
    "ArmHook.lookup": set(),
    # Sends the begin_* call its caller hands it, which the caller's entry accounts for.
    "ArmHook.start": set(),
    "ArmHook.operation_status": OPERATION_STATUS,
    "VmHook.resolve_image": {MARKETPLACE},
    "VmHook.get_vm": {VM_READ},
    # Azure creates the OS and data disks and the inline NIC (in the subnet) with the VM, as the caller.
    "VmHook.begin_create_vm": {VM_WRITE, DISK_WRITE, NIC_WRITE, NIC_JOIN, SUBNET_JOIN},
    "VmHook.begin_deallocate": {"Microsoft.Compute/virtualMachines/deallocate/action"},
    "VmHook.generalize": {"Microsoft.Compute/virtualMachines/generalize/action"},
    # deleteOption: Delete takes the disks and the NIC with the VM.
    "VmHook.begin_delete_vm": {VM_DELETE, DISK_DELETE, NIC_DELETE},
    "VmHook.network_leftovers": {NIC_READ, PIP_READ},
    "VmHook.begin_delete_network": {NIC_DELETE, PIP_DELETE},
    "VmHook.vm_state": {VM_VIEW},
    "DiskHook.get_disk": {DISK_READ},
    "DiskHook.get_snapshot": {SNAPSHOT_READ},
    "DiskHook.get_snapshot_by_id": {SNAPSHOT_READ},
    # A full copy of the disk: Azure reads the source disk's data as the caller.
    "DiskHook.begin_snapshot": {SNAPSHOT_WRITE, DISK_READ, DISK_ACCESS},
    "DiskHook.get_image": {IMAGE_READ},
    "DiskHook.begin_image": {IMAGE_WRITE, SNAPSHOT_READ},
    "DiskHook.disk_leftovers": {DISK_READ},
    "DiskHook.tagged": {SNAPSHOT_READ, IMAGE_READ},
    "DiskHook.begin_delete": {DISK_DELETE, SNAPSHOT_DELETE, IMAGE_DELETE},
    "GalleryHook.get_gallery": {GALLERY_READ},
    "GalleryHook.begin_gallery": {GALLERY_WRITE},
    "GalleryHook.get_image_definition": {DEFINITION_READ},
    "GalleryHook.begin_image_definition": {DEFINITION_WRITE},
    "ImageVersionHook.version_id": set(),
    "ImageVersionHook.get_version": {VERSION_READ},
    "ImageVersionHook.list_versions": {VERSION_READ},
    # From a managed image or straight from snapshots, which the gallery reads as the caller.
    "ImageVersionHook.begin_version": {VERSION_WRITE, IMAGE_READ, SNAPSHOT_READ},
    "ImageVersionHook.begin_target_regions": {VERSION_WRITE},
    "ImageVersionHook.begin_delete_version": {VERSION_DELETE},
    "ImageVersionHook.aget_replication": {VERSION_READ},
    "BatchHook._probe": {BATCH_ACCOUNT_READ},
    "BatchHook.endpoint": set(),
    "BatchHook.account_name": set(),
    "BatchHook.require_entra_id": set(),
    # Account-level reads (supported images, node counts) need the account's read action.
    "BatchHook.supported_images": {BATCH_ACCOUNT_READ},
    "BatchHook.supported_node_agent_skus": {BATCH_ACCOUNT_READ},
    "BatchHook.pool_image_ids": {POOL_READ},
    "BatchHook.pool_ids": {POOL_READ},
    "BatchHook.list_pools": {POOL_READ},
    "BatchHook.node_counts_by_pool": {BATCH_ACCOUNT_READ},
    "BatchHook.failed_node": {POOL_READ},
    "BatchHook.create_pool": {POOL_WRITE} | GALLERY_IMAGE_USE,
    "BatchHook.get_pool": {POOL_READ},
    "BatchHook.aget_pool": {POOL_READ},
    "BatchHook.pool_node_counts": {BATCH_ACCOUNT_READ},
    "BatchHook.apool_node_counts": {BATCH_ACCOUNT_READ},
    # A pool's nodes are read as part of the pool.
    "BatchHook.afailed_node": {POOL_READ},
    "BatchHook.resize": {POOL_WRITE},
    "BatchHook.stop_resize": {POOL_STOP_RESIZE},
    "BatchHook.delete_pool": {POOL_DELETE},
    "BatchHook.create_job": {JOB_WRITE},
    "BatchHook.create_task": {JOB_WRITE},
    "BatchHook.get_task": {JOB_READ},
    "BatchHook.aget_task": {JOB_READ},
    "BatchHook.delete_job": {JOB_DELETE},
    # The facts a plan checks: all reads.
    "AzureFactsHook._probe": {LOCATIONS_READ},
    "AzureFactsHook.subscription_id": set(),
    "AzureFactsHook.subscriptions_client": set(),
    "AzureFactsHook.batch_management_client": set(),
    "AzureFactsHook.locations": {LOCATIONS_READ},
    "AzureFactsHook.resource_skus": {SKUS_READ},
    "AzureFactsHook.compute_usages": {USAGES_READ},
    "AzureFactsHook.marketplace_image": {MARKETPLACE},
    "AzureFactsHook.batch_account": {BATCH_ACCOUNT_READ},
    # Listing the subscription's accounts: the read at the subscription scope (the subscription role).
    "AzureFactsHook.batch_accounts": {BATCH_ACCOUNT_READ},
    "AzureFactsHook.find_batch_account": {BATCH_ACCOUNT_READ},
    # A subnet's region is its virtual network's: one read of the network, subnets included.
    "AzureFactsHook.subnet": {VNET_READ},
}
# Needed only for a spec that asks for a public IP (build.public_ip): the separate public IP role.
PUBLIC_IP_PERMISSIONS = {"VmHook.begin_create_vm": {PIP_WRITE, PIP_JOIN}}

# Every member of the SDK clients the hooks reach (``self.connection.X`` or an aio ``client.X``, with
# the operation when written inline) and the actions it needs.
SDK_MEMBERS: dict[tuple[str, str | None], set[str]] = {
    ("virtual_machine_images", None): {MARKETPLACE},
    ("virtual_machines", "get"): {VM_READ},
    ("virtual_machines", "instance_view"): {VM_VIEW},
    ("virtual_machines", "begin_create_or_update"): PERMISSIONS["VmHook.begin_create_vm"],
    ("virtual_machines", "begin_deallocate"): PERMISSIONS["VmHook.begin_deallocate"],
    ("virtual_machines", "generalize"): PERMISSIONS["VmHook.generalize"],
    ("virtual_machines", "begin_delete"): PERMISSIONS["VmHook.begin_delete_vm"],
    ("disks", "get"): {DISK_READ},
    ("disks", "list_by_resource_group"): {DISK_READ},
    ("snapshots", "get"): {SNAPSHOT_READ},
    ("snapshots", "list_by_resource_group"): {SNAPSHOT_READ},
    ("snapshots", "begin_create_or_update"): PERMISSIONS["DiskHook.begin_snapshot"],
    ("images", "get"): {IMAGE_READ},
    ("images", "list_by_resource_group"): {IMAGE_READ},
    ("images", "begin_create_or_update"): PERMISSIONS["DiskHook.begin_image"],
    ("galleries", "get"): {GALLERY_READ},
    ("galleries", "list"): {GALLERY_READ},
    ("galleries", "begin_create_or_update"): {GALLERY_WRITE},
    ("gallery_images", "get"): {DEFINITION_READ},
    ("gallery_images", "begin_create_or_update"): {DEFINITION_WRITE},
    ("gallery_image_versions", "get"): {VERSION_READ},
    ("gallery_image_versions", "list_by_gallery_image"): {VERSION_READ},
    ("gallery_image_versions", "begin_create_or_update"): PERMISSIONS["ImageVersionHook.begin_version"],
    ("gallery_image_versions", "begin_update"): {VERSION_WRITE},
    ("gallery_image_versions", "begin_delete"): {VERSION_DELETE},
    ("resource_skus", "list"): {SKUS_READ},
    ("usage", "list"): {USAGES_READ},
    ("subscriptions", "list_locations"): {LOCATIONS_READ},
    ("batch_account", "get"): {BATCH_ACCOUNT_READ},
    ("batch_account", "list"): {BATCH_ACCOUNT_READ},
    # Plain requests (network resources, Batch's initial-request-only calls, operation status): the
    # method that sends each accounts for its URL in PERMISSIONS.
    ("send_request", None): set(),
    ("list_supported_images", None): {BATCH_ACCOUNT_READ},
    ("list_pools", None): {POOL_READ},
    ("get_pool", None): {POOL_READ},
    ("create_pool", None): PERMISSIONS["BatchHook.create_pool"],
    ("list_pool_node_counts", None): {BATCH_ACCOUNT_READ},
    ("list_nodes", None): {POOL_READ},
    ("create_job", None): {JOB_WRITE},
    ("create_task", None): {JOB_WRITE},
    ("get_task", None): {JOB_READ},
}
# ``self.connection`` (the hook's client), another client a hook holds (``self.<name>_client``), or an aio ``client``.
SDK_REFERENCE = re.compile(r"(?:self\.(?:connection|[a-z_]+_client)|\bclient)\.([a-z_]+)(?:\.([a-z_]+)\()?")
# Members that belong to the generic pipeline client, not to one operation family.
BATCH_METHODS = {name for name, operation in SDK_MEMBERS if operation is None and name != "virtual_machine_images"}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def granted(*roles: dict) -> set[str]:
    return set().union(*(set(role["Actions"]) | set(role["DataActions"]) for role in roles))


def pipeline_roles() -> set[str]:
    """What the resource role and the subscription role grant together: every spec's needs but a public IP."""
    return granted(load(ROLE), load(SUBSCRIPTION_ROLE))


def hook_classes() -> list[type]:
    """Every hook that talks to Azure: the subclasses of the base hook defined in imagepool.hooks' modules."""
    found = []
    for module_info in pkgutil.iter_modules(imagepool.hooks.__path__):
        module = importlib.import_module(f"imagepool.hooks.{module_info.name}")
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, ImagepoolAzureHook)
            and cls is not ImagepoolAzureHook
            and cls.__module__ == module.__name__
        ]
    return found


def hook_methods() -> set[str]:
    """``Class.method`` for each public method and property a hook defines itself, and its connection probe."""
    names = set()
    for cls in hook_classes():
        for name, member in vars(cls).items():
            callable_member = inspect.isfunction(member) or isinstance(
                member, (property, cached_property, staticmethod, classmethod)
            )
            if callable_member and (not name.startswith("_") or name == "_probe"):
                names.add(f"{cls.__name__}.{name}")
    return names


def sdk_references() -> set[tuple[str, str | None]]:
    found = set()
    for path in HOOKS_DIR.glob("*.py"):
        for member, operation in SDK_REFERENCE.findall(path.read_text()):
            # The Batch client's methods are called on the client itself; a compute client's go through a group.
            found.add((member, None) if member in BATCH_METHODS or not operation else (member, operation))
    return found


@pytest.mark.parametrize("path", ALL_ROLES, ids=lambda p: p.name)
def test_role_definition_has_the_shape_az_role_definition_create_takes(path):
    role = load(path)
    assert set(role) == ROLE_KEYS
    assert role["IsCustom"] is True
    assert role["Name"].strip()
    assert len(role["Description"]) > 40
    assert role["NotActions"] == []
    assert role["NotDataActions"] == []
    assert role["AssignableScopes"]
    assert all(SCOPE.match(scope) for scope in role["AssignableScopes"])


@pytest.mark.parametrize("path", ALL_ROLES, ids=lambda p: p.name)
def test_every_action_is_well_formed_specific_and_listed_once(path):
    role = load(path)
    for action in role["Actions"] + role["DataActions"]:
        assert ACTION.match(action), f"{action!r} is not an Azure operation string"
        assert "*" not in action, f"{action!r}: least privilege means no wildcards"
        assert action.split("/")[0] in {
            "Microsoft.Compute",
            "Microsoft.Network",
            "Microsoft.Batch",
            "Microsoft.Resources",
        }, action
    for field in ("Actions", "DataActions"):
        assert len(role[field]) == len(set(role[field])), f"{field} lists an action twice"


def test_only_batch_jobs_are_data_actions():
    role = load(ROLE)
    assert role["DataActions"]
    assert all(a.startswith("Microsoft.Batch/batchAccounts/jobs/") for a in role["DataActions"])
    assert not any(a.startswith("Microsoft.Batch/batchAccounts/jobs/") for a in role["Actions"])


def test_the_role_names_are_distinct():
    assert len({load(path)["Name"] for path in ALL_ROLES}) == len(ALL_ROLES)


def test_location_level_reads_are_in_the_subscription_role_and_only_there():
    assert not any(LOCATION_LEVEL.match(action) for action in granted(load(ROLE), load(PUBLIC_IP_ROLE)))
    subscription = load(SUBSCRIPTION_ROLE)
    assert subscription["DataActions"] == []
    assert set(subscription["Actions"]) == SUBSCRIPTION_LEVEL
    assert all(a.endswith("/read") for a in subscription["Actions"])


def test_the_build_vm_public_ip_is_not_in_the_pipeline_roles():
    assert not {PIP_WRITE, PIP_JOIN} & pipeline_roles()


def test_every_hook_method_has_an_entry_in_the_permission_table():
    methods = hook_methods()
    assert methods - PERMISSIONS.keys() == set(), "hook methods without an entry in PERMISSIONS: add their actions"
    assert PERMISSIONS.keys() - methods == set(), "PERMISSIONS names methods that no longer exist"


@pytest.mark.parametrize("method", sorted(PERMISSIONS))
def test_the_roles_grant_what_each_hook_method_needs(method):
    assert PERMISSIONS[method] - pipeline_roles() == set()


@pytest.mark.parametrize("method", sorted(PUBLIC_IP_PERMISSIONS))
def test_the_public_ip_role_grants_what_a_public_ip_build_needs(method):
    assert PUBLIC_IP_PERMISSIONS[method] - granted(load(PUBLIC_IP_ROLE)) == set()


def test_every_sdk_member_the_hooks_use_is_known():
    unknown = sdk_references() - SDK_MEMBERS.keys()
    assert unknown == set(), f"SDK calls without an entry in SDK_MEMBERS (and their actions): {sorted(unknown)}"


def test_the_roles_grant_what_every_sdk_call_needs():
    missing = {member: actions - pipeline_roles() for member, actions in SDK_MEMBERS.items()}
    assert {member: actions for member, actions in missing.items() if actions} == {}


def test_the_roles_grant_nothing_the_hooks_do_not_use():
    used = set().union(*PERMISSIONS.values())
    assert pipeline_roles() - used == set()
    assert granted(load(PUBLIC_IP_ROLE)) - set().union(*PUBLIC_IP_PERMISSIONS.values()) == set()
