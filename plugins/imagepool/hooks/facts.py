"""Azure's own facts that a plan checks a spec against, read from the APIs that publish them.

Regions (Subscriptions - List Locations, of whichever cloud the connection is in), VM sizes (Resource SKUs -
List), Marketplace images (Virtual Machine Images - Get), compute quotas (Usage - List), Batch accounts
(Microsoft.Batch/batchAccounts) and the build subnet (its virtual network). imagepool holds no copy of any
of them. Everything returned is plain data (frozen dataclasses of str, int, bool, tuples and dicts), so a
check can compare, print and serialize it without the SDKs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from imagepool.errors import AzureOperationFailed
from imagepool.hooks.arm import ArmHook, text
from imagepool.hooks.errors import translate

# The Microsoft.Network version the subnet's virtual network is read with (as the build VM's NIC is made).
NETWORK_API_VERSION = "2022-11-01"
SUBNET_ID = re.compile(
    r"^(?P<vnet>/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
    r"Microsoft\.Network/virtualNetworks/(?P<vnet_name>[^/]+))/subnets/(?P<name>[^/]+)/?$",
    re.IGNORECASE,
)
IMAGE_ACTION = "check publisher, offer, SKU and version (az vm image list --all --publisher ... --sku ...)"


def region_key(name: str) -> str:
    """``"West Europe"``, ``"westeurope"`` and ``"WestEurope"`` all name one region."""
    return name.replace(" ", "").lower()


def version_key(version: str) -> tuple[int, ...]:
    """Azure orders image versions as dotted numbers (``22.04.202411010`` > ``22.04.99``)."""
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


# --- the facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A region of the connection's cloud (``Physical``: it holds resources; ``Logical``: a grouping)."""

    name: str
    display_name: str
    regional_display_name: str
    region_type: str
    region_category: str
    geography: str | None = None
    geography_group: str | None = None
    physical_location: str | None = None
    paired_regions: tuple[str, ...] = ()
    # Logical availability zones ("1", "2", "3"); empty where the region has none.
    zones: tuple[str, ...] = ()

    @property
    def physical(self) -> bool:
        return self.region_type == "Physical"


def find_location(locations: list[Location], name: str) -> Location | None:
    """The location ``name`` names, by its name or display name in any spelling (``West Europe``), or None."""
    wanted = region_key(name)
    return next((loc for loc in locations if wanted in (loc.name, region_key(loc.display_name))), None)


@dataclass(frozen=True)
class SkuRestriction:
    """Why a size cannot be used: ``Location`` (anywhere in the region) or ``Zone`` (in ``zones``)."""

    type: str
    reason_code: str | None
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class VmSku:
    """A VM size in one region, as Resource SKUs describes it. ``capabilities`` keeps every capability Azure
    gives, by name, as strings; the properties read the ones a plan checks.
    """

    name: str
    location: str
    family: str | None
    tier: str | None
    size: str | None
    zones: tuple[str, ...]
    capabilities: dict[str, str] = field(default_factory=dict)
    restrictions: tuple[SkuRestriction, ...] = ()

    def _int(self, name: str) -> int | None:
        value = self.capabilities.get(name)
        return int(float(value)) if value not in (None, "") else None

    def _bool(self, name: str) -> bool | None:
        value = self.capabilities.get(name)
        return None if value is None else value.lower() == "true"

    @property
    def vcpus(self) -> int | None:
        return self._int("vCPUs")

    @property
    def memory_gb(self) -> float | None:
        value = self.capabilities.get("MemoryGB")
        return float(value) if value else None

    @property
    def max_data_disk_count(self) -> int | None:
        return self._int("MaxDataDiskCount")

    @property
    def hyper_v_generations(self) -> tuple[str, ...]:
        return tuple(g.strip() for g in self.capabilities.get("HyperVGenerations", "").split(",") if g.strip())

    @property
    def architecture(self) -> str | None:
        return self.capabilities.get("CpuArchitectureType")

    @property
    def premium_io(self) -> bool | None:
        return self._bool("PremiumIO")

    @property
    def low_priority_capable(self) -> bool | None:
        return self._bool("LowPriorityCapable")

    @property
    def trusted_launch_disabled(self) -> bool:
        return bool(self._bool("TrustedLaunchDisabled"))

    @property
    def restricted_in_region(self) -> SkuRestriction | None:
        """The restriction that keeps the size out of the whole region, if any."""
        return next((r for r in self.restrictions if r.type == "Location"), None)

    @property
    def available_zones(self) -> tuple[str, ...]:
        """The zones where the size can be used (its zones less the restricted ones)."""
        restricted = {z for r in self.restrictions if r.type == "Zone" for z in r.zones}
        return tuple(z for z in self.zones if z not in restricted)


@dataclass(frozen=True)
class MarketplaceImage:
    """A Marketplace image version (``latest`` resolved) in one region."""

    publisher: str
    offer: str
    sku: str
    version: str
    location: str
    os_type: str | None
    hyper_v_generation: str
    architecture: str
    os_disk_size_gb: int | None
    # Purchase terms: {"name", "product", "publisher"}; a VM needs them, Batch cannot use such an image.
    plan: dict[str, str] | None
    features: dict[str, str] = field(default_factory=dict)

    @property
    def trusted_launch_supported(self) -> bool:
        return "TrustedLaunch" in (self.features.get("SecurityType") or "")

    @property
    def urn(self) -> str:
        return f"{self.publisher}:{self.offer}:{self.sku}:{self.version}"


@dataclass(frozen=True)
class Usage:
    """A compute quota in a region: ``cores`` (all VMs), ``lowPriorityCores``, or a VM family's vCPUs."""

    name: str
    localized_name: str | None
    current_value: int
    limit: int
    unit: str | None = "Count"

    @property
    def available(self) -> int:
        return self.limit - self.current_value


@dataclass(frozen=True)
class BatchAccountFacts:
    """A Batch account's settings and quotas, as its ARM resource reports them."""

    id: str
    name: str
    resource_group: str
    subscription_id: str
    location: str
    account_endpoint: str | None
    provisioning_state: str | None
    pool_allocation_mode: str | None
    allowed_authentication_modes: tuple[str, ...]
    dedicated_core_quota: int | None
    low_priority_core_quota: int | None
    dedicated_core_quota_per_vm_family: dict[str, int]
    dedicated_core_quota_per_vm_family_enforced: bool
    pool_quota: int | None

    @property
    def entra_id_allowed(self) -> bool:
        """Whether the account takes Microsoft Entra ID tokens (Batch calls the mode ``AAD``)."""
        return "AAD" in self.allowed_authentication_modes

    def family_quota(self, family: str) -> int | None:
        """The dedicated cores this account allows the VM family (case-insensitive), when it enforces them."""
        if not self.dedicated_core_quota_per_vm_family_enforced:
            return None
        lowered = {k.lower(): v for k, v in self.dedicated_core_quota_per_vm_family.items()}
        return lowered.get(family.lower(), self.dedicated_core_quota)


@dataclass(frozen=True)
class SubnetFacts:
    """A subnet and where it is: subnets have no location of their own, their virtual network's is theirs."""

    id: str
    name: str
    virtual_network_id: str
    location: str
    address_prefixes: tuple[str, ...]
    provisioning_state: str | None


# --- reading SDK models into facts ---------------------------------------------------------------------


def _location(found) -> Location:
    meta = found.metadata
    return Location(
        name=found.name,
        display_name=found.display_name or found.name,
        regional_display_name=found.regional_display_name or found.display_name or found.name,
        region_type=(text(meta.region_type) if meta else None) or "Physical",
        region_category=(text(meta.region_category) if meta else None) or "Other",
        geography=meta.geography if meta else None,
        geography_group=meta.geography_group if meta else None,
        physical_location=meta.physical_location if meta else None,
        paired_regions=tuple(p.name for p in (meta.paired_region or []) if p.name) if meta else (),
        zones=tuple(sorted(m.logical_zone for m in found.availability_zone_mappings or [] if m.logical_zone)),
    )


def _sku(found, location: str) -> VmSku:
    info = next((i for i in found.location_info or [] if region_key(i.location or "") == location), None)
    return VmSku(
        name=found.name,
        location=location,
        family=found.family,
        tier=found.tier,
        size=found.size,
        zones=tuple(info.zones or []) if info else (),
        capabilities={c.name: c.value for c in found.capabilities or [] if c.name},
        restrictions=tuple(
            SkuRestriction(
                type=text(r.type) or "",
                reason_code=text(r.reason_code),
                zones=tuple(r.restriction_info.zones or []) if r.restriction_info else (),
            )
            for r in found.restrictions or []
            if r.type and location in [region_key(v) for v in r.values_property or [location]]
        ),
    )


def _os_disk_size_gb(image) -> int | None:
    """The OS disk's size: reported beyond the REST spec's ``osDiskImage`` (``sizeInGb``, ``sizeInBytes``)."""
    disk: Any = image.os_disk_image or {}
    size = disk.get("sizeInGb") or disk.get("sizeInGB")
    if size is None and disk.get("sizeInBytes"):
        size = -(-int(disk["sizeInBytes"]) // 1024**3)
    return int(size) if size is not None else None


def marketplace_image(images, location: str, publisher: str, offer: str, sku: str, version: str) -> MarketplaceImage:
    """The concrete Marketplace image ``version`` names (``latest``: the highest), through a compute client's
    ``virtual_machine_images`` operations; errors name the image and what to check.
    """
    urn = f"{publisher}:{offer}:{sku}:{version}"
    try:
        if version.lower() == "latest":
            versions = [v.name for v in images.list(location, publisher, offer, sku)]
            if not versions:
                raise AzureOperationFailed(
                    f"Marketplace image {urn} in {location}", "NoVersions", "the SKU lists no versions", IMAGE_ACTION
                )
            version = max(versions, key=version_key)
        found = images.get(location, publisher, offer, sku, version)
    except HttpResponseError as exc:
        raise translate(exc, f"Marketplace image {urn} in {location}", IMAGE_ACTION) from exc
    plan = found.plan
    return MarketplaceImage(
        publisher=publisher,
        offer=offer,
        sku=sku,
        version=version,
        location=location,
        os_type=text(found.os_disk_image.operating_system) if found.os_disk_image else None,
        hyper_v_generation=text(found.hyper_v_generation) or "V1",
        architecture=text(found.architecture) or "x64",
        os_disk_size_gb=_os_disk_size_gb(found),
        plan={"name": plan.name, "product": plan.product, "publisher": plan.publisher} if plan else None,
        features={f.name: f.value for f in found.features or [] if f.name},
    )


def _resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def _batch_account(found) -> BatchAccountFacts:
    props = found.properties
    return BatchAccountFacts(
        id=found.id,
        name=found.name,
        resource_group=_resource_group_of(found.id),
        subscription_id=found.id.split("/")[2] if found.id.lower().startswith("/subscriptions/") else "",
        location=found.location,
        account_endpoint=props.account_endpoint,
        provisioning_state=text(props.provisioning_state),
        pool_allocation_mode=text(props.pool_allocation_mode),
        allowed_authentication_modes=tuple(str(text(m)) for m in props.allowed_authentication_modes or []),
        dedicated_core_quota=props.dedicated_core_quota,
        low_priority_core_quota=props.low_priority_core_quota,
        dedicated_core_quota_per_vm_family={
            q.name: q.core_quota for q in props.dedicated_core_quota_per_vm_family or [] if q.name
        },
        dedicated_core_quota_per_vm_family_enforced=bool(props.dedicated_core_quota_per_vm_family_enforced),
        pool_quota=props.pool_quota,
    )


class AzureFactsHook(ArmHook):
    """Reads Azure's facts for a plan through the connection's cloud: Resource Manager (subscriptions,
    compute, network) and the Batch management plane. Read-only: it never writes to Azure.

    :param azure_conn_id: Airflow connection of type ``azure``; default ``azure_default``.
    """

    hook_name = "Azure facts (imagepool)"

    def _arm_kwargs(self) -> dict[str, Any]:
        cloud = self.settings.cloud
        return {
            "credential": self.credential,
            "base_url": cloud.arm_endpoint,
            "credential_scopes": [cloud.arm_scope],
            **self._transport_kwargs(),
        }

    @property
    def subscription_id(self) -> str:
        self.settings.require("subscription_id")
        return str(self.settings.subscription_id)

    # The two clients below are imported when a plan first needs them: the build VM's hooks import this module
    # for its Marketplace image reader, and every task would pay for their modules otherwise (see preload.py).
    @cached_property
    def subscriptions_client(self):
        from azure.mgmt.resource.subscriptions import SubscriptionClient

        return SubscriptionClient(**self._arm_kwargs())

    @cached_property
    def batch_management_client(self):
        from azure.mgmt.batch import BatchManagementClient

        return BatchManagementClient(subscription_id=self.subscription_id, **self._arm_kwargs())

    def _probe(self) -> str:
        count = len(self.locations())
        return f"Connected to Azure Resource Manager ({self.settings.cloud.name}); {count} locations visible."

    def _read(self, read, resource: str, action: str | None = None):
        try:
            return read()
        except HttpResponseError as exc:
            raise translate(exc, resource, action) from exc

    # --- regions ---------------------------------------------------------------------------------------
    def locations(self) -> list[Location]:
        """Every location of the connection's cloud that its subscription sees, physical and logical."""
        subscription = self.subscription_id
        found = self._read(
            lambda: list(self.subscriptions_client.subscriptions.list_locations(subscription)),
            f"locations of subscription {subscription}",
        )
        return [_location(loc) for loc in found]

    # --- VM sizes and quotas ---------------------------------------------------------------------------
    def resource_skus(self, location: str) -> list[VmSku]:
        """The VM sizes Resource SKUs lists for ``location`` (its short name), restrictions included."""
        wanted = region_key(location)
        found = self._read(
            lambda: list(self.connection.resource_skus.list(filter=f"location eq '{wanted}'")),
            f"VM sizes (Resource SKUs) in {location}",
        )
        return [_sku(s, wanted) for s in found if s.resource_type == "virtualMachines" and s.name]

    def compute_usages(self, location: str) -> list[Usage]:
        """The region's compute quotas (regional vCPUs, each VM family's vCPUs...) with what is in use."""
        found = self._read(
            lambda: list(self.connection.usage.list(region_key(location))), f"compute quotas in {location}"
        )
        return [
            Usage(
                name=u.name.value if u.name else "",
                localized_name=u.name.localized_value if u.name else None,
                current_value=u.current_value,
                limit=u.limit,
                unit=text(u.unit),
            )
            for u in found
        ]

    # --- images ----------------------------------------------------------------------------------------
    def marketplace_image(self, location: str, publisher: str, offer: str, sku: str, version: str) -> MarketplaceImage:
        """A Marketplace image version's facts (``latest`` resolved to the highest version)."""
        return marketplace_image(
            self.connection.virtual_machine_images, region_key(location), publisher, offer, sku, version
        )

    # --- Batch accounts --------------------------------------------------------------------------------
    def batch_account(self, resource_group: str, name: str) -> BatchAccountFacts | None:
        """The Batch account's settings and quotas, or None if the group holds no such account."""
        found = self.lookup(
            lambda: self.batch_management_client.batch_account.get(resource_group, name), f"Batch account {name}"
        )
        return _batch_account(found) if found is not None else None

    def batch_accounts(self) -> list[BatchAccountFacts]:
        """Every Batch account in the connection's subscription."""
        return self._read(
            lambda: [_batch_account(a) for a in self.batch_management_client.batch_account.list()],
            f"Batch accounts of subscription {self.subscription_id}",
        )

    def find_batch_account(self, name: str) -> BatchAccountFacts | None:
        """The account named ``name`` (any case) in the connection's subscription, or None if it is not there."""
        return next((a for a in self.batch_accounts() if a.name.lower() == name.lower()), None)

    # --- network (no Microsoft.Network SDK here: a plain ARM request on the compute client's pipeline) -----
    def subnet(self, subnet_id: str) -> SubnetFacts | None:
        """The subnet and its region (its virtual network's), or None if the network or the subnet is missing."""
        parts = SUBNET_ID.match(subnet_id)
        if parts is None:
            raise AzureOperationFailed(
                f"subnet {subnet_id}",
                "InvalidSubnetId",
                "not a subnet resource id",
                "use /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>"
                "/subnets/<subnet>",
            )
        response = self.connection.send_request(
            HttpRequest("GET", f"{parts['vnet']}?api-version={NETWORK_API_VERSION}")
        )
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise translate(
                HttpResponseError(response=response, error_format=ARMErrorFormat), f"virtual network {parts['vnet']}"
            )
        vnet = response.json()
        subnet = next(
            (
                s
                for s in (vnet.get("properties") or {}).get("subnets") or []
                if s["name"].lower() == parts["name"].lower()
            ),
            None,
        )
        if subnet is None:
            return None
        props = subnet.get("properties") or {}
        prefixes = props.get("addressPrefixes") or ([props["addressPrefix"]] if props.get("addressPrefix") else [])
        return SubnetFacts(
            id=subnet["id"],
            name=subnet["name"],
            virtual_network_id=vnet["id"],
            location=vnet["location"],
            address_prefixes=tuple(prefixes),
            provisioning_state=props.get("provisioningState"),
        )
