"""What a run of a spec will do, decided from the spec, the run's parameters and what Azure holds.

The plan is flat plain data (one XCom per key) so the DAG's operators take exactly the value they
need. A run builds when forced, when there is no version yet, or when the image fingerprint (the
resolved base image version, the build script and the image-shaping part of the spec) differs
from the newest version's; otherwise it reconciles replicas and pool sizes and builds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from imagepool.spec import Spec, build_script, next_version

FINGERPRINT_TAG = "imagepool-fingerprint"
BASE_IMAGE_TAG = "imagepool-base-image"
LAST_VERSION_TAG = "imagepool-last-version"
SPEC_TAG = "imagepool-spec"


class AzureState(Protocol):
    """Read-only look at Azure (implemented with the hooks in :mod:`imagepool.pipeline_state`)."""

    def resolve_base_version(self, spec: Spec, override: str | None) -> str: ...

    def versions(self, spec: Spec) -> list[dict]: ...

    def last_version(self, spec: Spec) -> str | None: ...

    def version_id(self, spec: Spec, version: str) -> str: ...

    def account_url(self, spec: Spec, account: str) -> str: ...

    def pools(self, spec: Spec, account: str) -> list[str]: ...


PARAM_NAMES = ("force_rebuild", "base_image_version", "pool_nodes", "skip_pools")
MAX_POOL_NODES = 100000


class RunParamsError(ValueError):
    """Trigger parameters a run cannot use: each problem names the parameter and the fix."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid trigger parameters: " + "; ".join(problems))


@dataclass
class RunParams:
    """The manual trigger form's values (a nightly run uses the defaults)."""

    force_rebuild: bool = False
    base_image_version: str = ""
    pool_nodes: dict[str, dict[str, int]] = field(default_factory=dict)
    skip_pools: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RunParams:
        """The values of a run's params; a run configuration that does not match the form is refused.

        Airflow checks the form's schema when a run is created, but keeps keys the form does not
        have (a misspelt ``force_rebuld`` would be ignored): those, and types the form did not
        check, are refused here.
        """
        problems = [
            f"{name}: unknown parameter; the trigger form has {', '.join(PARAM_NAMES)}"
            for name in sorted(set(params) - set(PARAM_NAMES))
        ]
        for name in ("force_rebuild", "skip_pools"):
            if not isinstance(params.get(name, False), bool):
                problems.append(f"{name}: must be true or false (got {params[name]!r})")
        version = params.get("base_image_version") or ""
        if not isinstance(version, str) or not re.fullmatch(r"(latest|\d+(\.\d+)*)?", version.strip()):
            problems.append(
                f"base_image_version: {version!r} is not 'latest' or a dotted Marketplace version "
                "such as '22.04.202411010'; leave it empty to use the spec's"
            )
        pool_nodes = params.get("pool_nodes") or {}
        if isinstance(pool_nodes, dict):
            problems += [p for prefix, sizes in pool_nodes.items() for p in _pool_size_problems(prefix, sizes)]
        else:
            problems.append(f"pool_nodes: must map pool id prefixes to {{dedicated, spot}} (got {pool_nodes!r})")
        if problems:
            raise RunParamsError(problems)
        return cls(
            force_rebuild=params.get("force_rebuild", False),
            base_image_version=version.strip(),
            pool_nodes={prefix: {k: int(n) for k, n in sizes.items()} for prefix, sizes in pool_nodes.items()},
            skip_pools=params.get("skip_pools", False),
        )

    def check(self, spec: Spec) -> None:
        """Refuse, before any Azure call, pool sizes this spec cannot run."""
        names = [p.id_prefix for p in spec.batch.pools]
        unknown = sorted(set(self.pool_nodes) - set(names))
        if unknown:
            raise RunParamsError([f"pool_nodes: {unknown} are not pools of this spec; use one of {names}"])
        targets = pool_targets(spec, self)
        problems = [
            f"pool_nodes.{prefix}: 0 dedicated + 0 spot nodes; a pool needs at least one node to validate "
            "the image (use skip_pools to leave the pools as they are)"
            for prefix, (dedicated, spot) in targets.items()
            if dedicated + spot == 0
        ]
        totals = {prefix: dedicated + spot for prefix, (dedicated, spot) in targets.items()}
        problems += [
            f"pool_nodes: {too_many}; ask for fewer nodes or raise vms_per_replica in the spec"
            for too_many in spec.replicas_over_limit(totals)
        ]
        if problems:
            raise RunParamsError(problems)


def _pool_size_problems(prefix: str, sizes: Any) -> list[str]:
    where = f"pool_nodes.{prefix}"
    if not isinstance(sizes, dict):
        return [f"{where}: must be {{dedicated: <nodes>, spot: <nodes>}} (got {sizes!r})"]
    problems = [f"{where}.{key}: unknown; use dedicated and spot" for key in sorted(set(sizes) - {"dedicated", "spot"})]
    for key in ("dedicated", "spot"):
        nodes = sizes.get(key, 0)
        # JSON schema's "integer" takes 4.0 too; True is an int to Python but not a node count.
        whole = isinstance(nodes, (int, float)) and not isinstance(nodes, bool) and float(nodes).is_integer()
        if not whole or not 0 <= nodes <= MAX_POOL_NODES:
            problems.append(f"{where}.{key}: {nodes!r} is not a node count from 0 to {MAX_POOL_NODES}")
    return problems


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pool_targets(spec: Spec, params: RunParams) -> dict[str, tuple[int, int]]:
    """(dedicated, spot) per pool prefix, with the form's overrides."""
    targets = {}
    for pool in spec.batch.pools:
        override = params.pool_nodes.get(pool.id_prefix, {})
        targets[pool.id_prefix] = (
            int(override.get("dedicated", pool.dedicated_nodes)),
            int(override.get("spot", pool.spot_nodes)),
        )
    return targets


def made_for(pool_id: str, prefix: str) -> bool:
    """Whether ``pool_id`` is one this pipeline made for the pool ``prefix``: ``<prefix>-<version>``. Ids
    that only start alike (another pool's ``<prefix>-gpu-1-0-0``, a hand-made ``<prefix>-manual``) are not.
    """
    return re.fullmatch(re.escape(prefix) + r"-\d+-\d+-\d+", pool_id, re.IGNORECASE) is not None


def make_plan(spec: Spec, spec_path: str | Path, params: RunParams, azure: AzureState) -> dict[str, Any]:
    params.check(spec)
    script = build_script(spec, spec_path)
    base_version = azure.resolve_base_version(spec, params.base_image_version or None)
    fingerprint = spec.image_fingerprint(base_version, script)
    versions = sorted(azure.versions(spec), key=lambda v: _key(v["name"]))
    latest = versions[-1] if versions else None
    if params.force_rebuild:
        build, reason = True, "rebuild forced from the trigger form"
    elif latest is None:
        build, reason = True, "no image version exists yet"
    elif latest.get("tags", {}).get(FINGERPRINT_TAG) != fingerprint:
        build, reason = (
            True,
            (f"inputs changed since {latest['name']} (base image {base_version}, build script or spec)"),
        )
    elif latest.get("provisioning_state") == "Failed":
        build, reason = True, f"the newest version {latest['name']} failed"
    else:
        build, reason = False, f"nothing changed since {latest['name']}: reconciling replicas and pool sizes"
    version = next_version(spec, [v["name"] for v in versions], azure.last_version(spec)) if build else latest["name"]
    run_key = version.replace(".", "-")
    targets = pool_targets(spec, params)
    overrides = {prefix: dedicated + spot for prefix, (dedicated, spot) in targets.items()}
    replicas = spec.replicas_per_region(overrides)
    plan: dict[str, Any] = {
        "build": build,
        "reason": reason,
        "version": version,
        "base_image_version": base_version,
        "fingerprint": fingerprint,
        "build_script": script,
        "run_key": run_key,
        "vm_name": f"ipb-{spec.name}-{run_key}"[:64],
        "managed_image_name": f"{spec.name}-{run_key}",
        "image_version_id": azure.version_id(spec, version),
        "end_of_life_date": (datetime.now(UTC) + timedelta(days=spec.version.end_of_life_days)).isoformat()
        if spec.version.end_of_life_days
        else None,
        "replicas": replicas,
        "target_regions": [
            {"name": r.name, "regional_replica_count": replicas[r.name], "storage_account_type": r.storage_account_type}
            for r in spec.target_regions
        ],
        "skip_pools": params.skip_pools,
        "version_tags": {**spec.tags, FINGERPRINT_TAG: fingerprint, BASE_IMAGE_TAG: base_version, SPEC_TAG: spec.name},
        "pools_for_replicas": [
            {
                "region": spec.account(p.account).location,
                "target_dedicated_nodes": targets[p.id_prefix][0],
                "target_low_priority_nodes": targets[p.id_prefix][1],
            }
            for p in spec.batch.pools
        ],
    }
    for account in spec.batch.accounts:
        plan[f"account_url:{account.name}"] = azure.account_url(spec, account.name)
    for pool in spec.batch.pools:
        existing = [pool_id for pool_id in azure.pools(spec, pool.account) if made_for(pool_id, pool.id_prefix)]
        new_id = pool.pool_id(version)
        dedicated, spot = targets[pool.id_prefix]
        plan[f"pool_id:{pool.id_prefix}"] = new_id
        plan[f"previous_pools:{pool.id_prefix}"] = sorted(p for p in existing if p.lower() != new_id.lower())
        # A pool that already existed is in service (or was kept from an earlier try): it is never
        # discarded, and keeping it is not a new promotion.
        plan[f"pool_existed:{pool.id_prefix}"] = any(p.lower() == new_id.lower() for p in existing)
        plan[f"dedicated:{pool.id_prefix}"] = dedicated
        plan[f"spot:{pool.id_prefix}"] = spot
    return plan


def describe(plan: dict[str, Any]) -> str:
    """The plan in a few lines for the task log."""
    lines = [
        f"{'BUILD' if plan['build'] else 'NO CHANGE'}: {plan['reason']}",
        f"image version {plan['version']} from base image {plan['base_image_version']}",
        "replicas: " + ", ".join(f"{r} {n}" for r, n in plan["replicas"].items()),
    ]
    for key in sorted(k for k in plan if k.startswith("pool_id:")):
        prefix = key.split(":", 1)[1]
        lines.append(
            f"pool {plan[key]}: {plan['dedicated:' + prefix]} dedicated + {plan['spot:' + prefix]} spot; "
            f"retires {plan['previous_pools:' + prefix] or 'nothing'}"
        )
    return "\n".join(lines)
