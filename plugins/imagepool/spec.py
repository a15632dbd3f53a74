"""The pipeline spec: one YAML file per image family, validated before anything touches Azure.

Every error names the field (its path in the YAML), the bad value and the rule. Derived values
(image version, replicas per region, resize timeouts, the build fingerprint) are computed here so
the DAG, the ``plan`` command and the tests agree on them.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from imagepool.notify_spec import Notify  # noqa: TC001 (pydantic reads the annotation when the model is built)
from imagepool.pool_sizing import resize_timeout
from imagepool.replicas import MAX_REPLICAS, normalize_region, replicas_for

INT32_MAX = 2**31 - 1
# Azure's limit on customData: base64 of at most 87,380 characters, i.e. 65,535 bytes of script.
MAX_SCRIPT_BYTES = 65535
GALLERY_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.]{0,78}[A-Za-z0-9])?$")
RESOURCE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$")
CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?LW#]+$")
SCHEDULE_PRESETS = {"@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}
LINUX_AGENT = re.compile(r"^batch\.node\.(ubuntu|el|debian|centos|rhel|almalinux|mariner|azurelinux)\b", re.I)
WINDOWS_AGENT = re.compile(r"^batch\.node\.windows\b", re.I)
STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
DISK_TYPES = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS")
# Regions imagepool knows; Azure has more, and a new one only needs adding here.
REGIONS = {
    "westeurope",
    "northeurope",
    "uksouth",
    "ukwest",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "switzerlandnorth",
    "norwayeast",
    "eastus",
    "eastus2",
    "centralus",
    "southcentralus",
    "northcentralus",
    "westus",
    "westus2",
    "westus3",
    "westcentralus",
    "canadacentral",
    "canadaeast",
    "brazilsouth",
    "australiaeast",
    "australiasoutheast",
    "japaneast",
    "japanwest",
    "koreacentral",
    "southeastasia",
    "eastasia",
    "centralindia",
    "southindia",
    "uaenorth",
    "southafricanorth",
    "qatarcentral",
    "polandcentral",
    "italynorth",
}
# Azure's size names: tier, family letters, vCPUs (optionally "-constrained"), feature letters, then
# accelerator and version parts: Standard_D4s_v5, Standard_E64-32s_v3, Standard_NC24ads_A100_v4, Basic_A1.
VM_SIZE = re.compile(r"^(Standard|Basic)_[A-Z]{1,5}\d+(-\d+)?[a-z]*(_[A-Za-z0-9]+)*$", re.IGNORECASE)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _region(value: str) -> str:
    region = normalize_region(value)
    if region not in REGIONS:
        raise ValueError(f"unknown Azure region {value!r}; use a region name such as 'westeurope' or 'eastus'")
    return region


def _vm_size(value: str) -> str:
    if not VM_SIZE.match(value):
        raise ValueError(f"{value!r} is not an Azure VM size such as 'Standard_D4s_v5'")
    return value


Region = Annotated[str, AfterValidator(_region)]
VmSize = Annotated[str, AfterValidator(_vm_size)]


class BaseImage(Strict):
    publisher: str = Field(min_length=1)
    offer: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    version: str = "latest"

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value != "latest" and not re.fullmatch(r"\d+(\.\d+)*", value):
            raise ValueError(f"{value!r} is not 'latest' or a dotted Marketplace version such as '22.04.202411010'")
        return value


class DataDisk(Strict):
    lun: int = Field(ge=0, le=63)
    size_gb: int = Field(ge=1, le=32767)
    storage_account_type: Literal[DISK_TYPES] = "Premium_LRS"  # type: ignore[valid-type]


class Build(Strict):
    vm_size: VmSize
    location: Region
    subnet_id: str
    script: str = Field(description="build script file, relative to the spec file")
    ssh_public_key: str | None = None
    admin_username: str = "imagepool"
    os_disk_size_gb: int = Field(64, ge=30, le=4095)
    os_disk_storage_account_type: Literal[DISK_TYPES] = "Premium_LRS"  # type: ignore[valid-type]
    data_disks: list[DataDisk] = Field(default_factory=list, max_length=16)
    public_ip: bool = False
    timeout_minutes: int = Field(90, ge=5, le=24 * 60)
    keep_resources_on_failure: bool = False

    @field_validator("subnet_id")
    @classmethod
    def _subnet(cls, value: str) -> str:
        if not re.fullmatch(
            r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/"
            r"virtualNetworks/[^/]+/subnets/[^/]+",
            value,
            re.IGNORECASE,
        ):
            raise ValueError(
                "must be a subnet resource id: /subscriptions/<sub>/resourceGroups/<rg>/providers/"
                "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>"
            )
        return value

    @field_validator("ssh_public_key")
    @classmethod
    def _ssh(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+", value):
            raise ValueError("must be an OpenSSH public key line ('ssh-ed25519 AAAA...'), never a private key")
        return value

    @field_validator("data_disks")
    @classmethod
    def _unique_luns(cls, disks: list[DataDisk]) -> list[DataDisk]:
        luns = [d.lun for d in disks]
        duplicates = sorted({lun for lun in luns if luns.count(lun) > 1})
        if duplicates:
            raise ValueError(f"LUN {duplicates[0]} is used twice; each data disk needs its own lun")
        return disks


class Gallery(Strict):
    name: str
    image_definition: str
    location: Region
    publisher: str = Field(min_length=1, max_length=128)
    offer: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)

    @field_validator("name")
    @classmethod
    def _gallery_name(cls, value: str) -> str:
        if not GALLERY_NAME.match(value):
            raise ValueError(
                f"{value!r}: gallery names use letters, digits, '_' and '.', up to 80 characters, "
                "no dashes (an Azure rule)"
            )
        return value

    @field_validator("image_definition")
    @classmethod
    def _definition_name(cls, value: str) -> str:
        if not RESOURCE_NAME.match(value):
            raise ValueError(f"{value!r}: use letters, digits, '_', '-' and '.', up to 80 characters")
        return value


class Version(Strict):
    major: int = Field(1, ge=0, le=INT32_MAX)
    minor: int = Field(0, ge=0, le=INT32_MAX)
    exclude_from_latest: bool = False
    end_of_life_days: int | None = Field(None, ge=1, le=3650)
    retention: int = Field(3, ge=1, le=100, description="newest versions to keep; versions in use are always kept")


class TargetRegion(Strict):
    name: Region
    storage_account_type: Literal[STORAGE_TYPES] = "Standard_LRS"  # type: ignore[valid-type]
    min_replicas: int = Field(1, ge=1, le=MAX_REPLICAS)


class StartTask(Strict):
    command: str = Field(min_length=1, max_length=8000)
    wait_for_success: bool = True
    elevated: bool = False
    max_retries: int = Field(0, ge=0, le=100)


class Pool(Strict):
    account: str
    id_prefix: str
    vm_size: VmSize
    node_agent_sku_id: str
    dedicated_nodes: int = Field(0, ge=0, le=100000)
    spot_nodes: int = Field(0, ge=0, le=100000)
    task_slots_per_node: int = Field(1, ge=1, le=256)
    start_task: StartTask | None = None
    resize_timeout_minutes: int | None = Field(None, ge=5, le=7 * 24 * 60)
    required_healthy_fraction: float = Field(0.9, gt=0, le=1)
    smoke_command: str = Field("/bin/sh -c 'echo imagepool smoke test'", min_length=1, max_length=8000)

    @field_validator("id_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        # The pool id is "<prefix>-<version with dashes>" and Batch allows 64 characters of [A-Za-z0-9_-].
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,30}", value):
            raise ValueError(
                f"{value!r}: Batch pool ids allow letters, digits, '-' and '_'; keep the prefix to "
                "30 characters so the version fits"
            )
        return value

    @model_validator(mode="after")
    def _some_nodes(self) -> Pool:
        if self.dedicated_nodes + self.spot_nodes == 0:
            raise ValueError("dedicated_nodes + spot_nodes is 0: a pool needs at least one node to validate the image")
        return self

    @property
    def target_nodes(self) -> int:
        return self.dedicated_nodes + self.spot_nodes

    def pool_id(self, version: str) -> str:
        return f"{self.id_prefix}-{version.replace('.', '-')}"

    def resize_timeout(self) -> timedelta:
        if self.resize_timeout_minutes:
            return timedelta(minutes=self.resize_timeout_minutes)
        return resize_timeout(self.target_nodes)


class BatchAccount(Strict):
    name: str = Field(pattern=r"^[a-z0-9]{3,24}$")
    location: Region
    url: str | None = Field(
        None,
        description="account URL; default: from the connection's cloud, e.g. https://<name>.<location>.batch.azure.com",
    )
    connection: str = "azure_default"
    resource_group: str | None = None


class Batch(Strict):
    accounts: list[BatchAccount] = Field(min_length=1)
    pools: list[Pool] = Field(default_factory=list)


class Spec(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,48}$", description="image family; the DAG id is imagepool_<name>")
    description: str = ""
    schedule: str | None = "0 2 * * *"
    connection: str = "azure_default"
    resource_group: str = Field(min_length=1, max_length=90)
    base_image: BaseImage
    os_type: Literal["Linux", "Windows"]
    hyper_v_generation: Literal["V1", "V2"] = "V2"
    security_type: Literal["Standard", "TrustedLaunch"] = "Standard"
    image_path: Literal["managed_image", "snapshots"] = "managed_image"
    build: Build
    gallery: Gallery
    version: Version = Version()
    target_regions: list[TargetRegion] = Field(min_length=1)
    vms_per_replica: int = Field(300, ge=1, le=10000)
    batch: Batch
    tags: dict[str, str] = Field(default_factory=dict)
    notify: Notify | None = None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None or value in SCHEDULE_PRESETS:
            return value
        parts = value.split()
        if len(parts) != 5 or not all(CRON_FIELD.match(p) for p in parts):
            raise ValueError(
                f"{value!r} is not a 5-field cron expression (such as '0 2 * * *') or a preset "
                "such as '@daily'; use null for manual runs only"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag in value.items():
            if len(key) > 512 or len(tag) > 256 or any(c in key for c in "<>%&\\?/"):
                raise ValueError(
                    f"tag {key!r}: Azure tag names are at most 512 characters without <>%&\\?/ and "
                    "values at most 256 characters"
                )
        return value

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Spec:
        problems = []
        regions = [r.name for r in self.target_regions]
        duplicates = sorted({r for r in regions if regions.count(r) > 1})
        if duplicates:
            problems.append(f"target_regions: {duplicates[0]} is listed twice; Azure refuses duplicate regions")
        if self.gallery.location not in regions:
            problems.append(
                f"target_regions: must include the gallery's region {self.gallery.location!r} "
                "(Azure keeps the source replica there)"
            )
        if self.security_type == "TrustedLaunch":
            if self.image_path == "managed_image":
                problems.append(
                    "image_path: 'managed_image' cannot be used with security_type 'TrustedLaunch' "
                    "(Azure refuses managed images from Trusted Launch VMs); use 'snapshots'"
                )
            if self.hyper_v_generation != "V2":
                problems.append("hyper_v_generation: Trusted Launch needs 'V2'")
        if self.os_type == "Linux" and not self.build.ssh_public_key:
            problems.append("build.ssh_public_key: a Linux build VM signs in with an SSH key only; give the public key")
        accounts = {a.name: a for a in self.batch.accounts}
        for i, account in enumerate(self.batch.accounts):
            if account.location not in regions:
                problems.append(
                    f"batch.accounts[{i}].location: {account.location!r} is not among target_regions "
                    f"{regions}; a pool can only use an image replicated to its account's region"
                )
        seen_prefixes = set()
        for i, pool in enumerate(self.batch.pools):
            where = f"batch.pools[{i}]"
            if pool.account not in accounts:
                problems.append(f"{where}.account: {pool.account!r} is not one of batch.accounts {sorted(accounts)}")
            agent_ok = (
                LINUX_AGENT.match(pool.node_agent_sku_id)
                if self.os_type == "Linux"
                else WINDOWS_AGENT.match(pool.node_agent_sku_id)
            )
            if not agent_ok:
                problems.append(
                    f"{where}.node_agent_sku_id: {pool.node_agent_sku_id!r} does not run {self.os_type} "
                    f"images (use e.g. {'batch.node.ubuntu 22.04' if self.os_type == 'Linux' else 'batch.node.windows amd64'})"
                )
            # Batch pool ids ignore case: "Render-WE-1-0-0" and "render-we-1-0-0" are the same pool.
            if (pool.account, pool.id_prefix.lower()) in seen_prefixes:
                problems.append(
                    f"{where}.id_prefix: {pool.id_prefix!r} is used twice in account {pool.account!r} "
                    "(Batch pool ids ignore case); give each pool its own prefix"
                )
            seen_prefixes.add((pool.account, pool.id_prefix.lower()))
        problems += [
            f"batch.pools: {too_many}; raise vms_per_replica or split the pools"
            for too_many in self.replicas_over_limit()
        ]
        if problems:
            # One line per problem (a problem's own advice may hold "; ").
            raise ValueError("\n".join(problems))
        return self

    # --- derived values --------------------------------------------------------------------------
    @property
    def dag_id(self) -> str:
        return f"imagepool_{self.name.replace('-', '_')}"

    def account(self, name: str) -> BatchAccount:
        return next(a for a in self.batch.accounts if a.name == name)

    def nodes_per_region(self, overrides: dict[str, int] | None = None) -> dict[str, int]:
        """Target nodes per region, from every pool (``overrides``: pool id prefix -> total nodes)."""
        found: dict[str, int] = {}
        for pool in self.batch.pools:
            region = next((a.location for a in self.batch.accounts if a.name == pool.account), None)
            if region is None:
                continue
            nodes = (overrides or {}).get(pool.id_prefix, pool.target_nodes)
            found[region] = found.get(region, 0) + nodes
        return found

    def replicas_over_limit(self, overrides: dict[str, int] | None = None) -> list[str]:
        """Regions whose pools need more replicas than Azure allows one version, one sentence each."""
        found = []
        for region, nodes in self.nodes_per_region(overrides).items():
            needed = -(-nodes // self.vms_per_replica)
            if needed > MAX_REPLICAS:
                found.append(
                    f"{nodes} nodes in {region} need {needed} replicas at vms_per_replica "
                    f"{self.vms_per_replica}, above Azure's {MAX_REPLICAS} per version"
                )
        return found

    def replicas_per_region(self, overrides: dict[str, int] | None = None) -> dict[str, int]:
        """Replicas each target region needs: the pools' ``ceil(nodes / vms_per_replica)``, at least the minimum."""
        nodes = self.nodes_per_region(overrides)
        return {
            r.name: max(r.min_replicas, replicas_for(nodes[r.name], self.vms_per_replica) if r.name in nodes else 0)
            for r in self.target_regions
        }

    def image_fingerprint(self, resolved_base_version: str, script_text: str) -> str:
        """What the image is made of: the resolved base image, the build script and the image-shaping spec.

        Pool sizes, retention and schedule are left out: changing them reconciles, it does not rebuild.
        """
        shaping = self.model_dump(
            mode="json",
            include={"base_image", "os_type", "hyper_v_generation", "security_type", "image_path", "build", "gallery"},
        )
        shaping["build"].pop("timeout_minutes", None)
        shaping["build"].pop("keep_resources_on_failure", None)
        shaping["base_image"]["version"] = resolved_base_version
        payload = json.dumps({"spec": shaping, "script": script_text}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def next_version(spec: Spec, existing: list[str], high_water: str | None = None) -> str:
    """The next ``MAJOR.MINOR.PATCH`` for the spec's major.minor: above every existing version and above
    ``high_water`` (the highest ever published, so a deleted version's number is never reused).
    """
    seen = [_parse(v) for v in [*existing, *([high_water] if high_water else [])]]
    prefix = (spec.version.major, spec.version.minor)
    patches = [p[2] for p in seen if p and p[:2] == prefix]
    patch = max(patches) + 1 if patches else 0
    if patch > INT32_MAX:
        raise ValueError(f"version {prefix[0]}.{prefix[1]}.* has no patch number left; raise version.minor")
    return f"{prefix[0]}.{prefix[1]}.{patch}"


def _parse(version: str) -> tuple[int, int, int] | None:
    found = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version or "")
    return tuple(int(x) for x in found.groups()) if found else None  # type: ignore[return-value]


class SpecError(ValueError):
    """A spec that cannot run: every problem with its field path, the bad value and the rule."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


def _describe(error: dict) -> list[str]:
    # The YAML path as the docs write it: batch.pools[0].id_prefix
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return [f"{path}: unknown key (check its spelling; docs/spec.md lists every key)"]
    if error["type"] == "missing":
        return [f"{path}: required"]
    value = error.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, (dict, list)) else ""
    if path:
        return [f"{path}: {part}{shown}" for part in message.split("\n")]
    return message.split("\n")


def parse_spec(data: object, source: str = "spec") -> Spec:
    if not isinstance(data, dict):
        raise SpecError(source, ["the spec must be a YAML mapping of keys to values"])
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(source, [p for e in exc.errors() for p in _describe(e)]) from None


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(str(path), [f"cannot read the spec: {exc}"]) from None
    spec = parse_spec(data, str(path))
    script = build_script(spec, path)
    if not script.strip():
        raise SpecError(
            str(path),
            [
                f"build.script: {spec.build.script!r} is empty; the build script must install "
                "the image's software and end by powering the VM off"
            ],
        )
    if len(script.encode()) > MAX_SCRIPT_BYTES:
        raise SpecError(
            str(path),
            [
                f"build.script: {len(script.encode())} bytes is above Azure's customData limit "
                f"of {MAX_SCRIPT_BYTES} bytes; download the heavy parts from the script instead"
            ],
        )
    return spec


def build_script(spec: Spec, spec_path: str | Path) -> str:
    """The build script's text (path relative to the spec file)."""
    script_path = Path(spec_path).parent / spec.build.script
    try:
        return script_path.read_text()
    except OSError as exc:
        raise SpecError(str(spec_path), [f"build.script: cannot read {script_path}: {exc.strerror}"]) from None
