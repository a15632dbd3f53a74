"""A readable summary of a pipeline run: what it decided, how long each phase took, and what Azure
holds now (image version and replicas, pools and their nodes, leftover build resources).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime

import requests

# Phases of the DAG, by task id prefix, in the order they run.
PHASES = [
    ("plan", ("plan", "build_needed", "nothing_changed", "pools_wanted")),
    (
        "image build",
        (
            "image.ensure",
            "image.create_build_vm",
            "image.wait_for_build",
            "image.generalize",
            "image.disks_of",
            "image.snapshot",
            "image.managed_image",
            "image.publish_version",
        ),
    ),
    ("scale replicas", ("scale_replicas",)),
    ("prune versions", ("prune_versions",)),
    ("cleanup", ("image.cleanup_build_resources",)),
]
BUILD_KINDS = ("arm/virtualMachines", "arm/snapshots", "arm/images", "arm/disks", "arm/networkInterfaces")


@dataclass
class Report:
    succeeded: bool
    text: str


def _span(instances) -> float | None:
    started = [ti.start_date for ti in instances if ti.start_date]
    ended = [ti.end_date for ti in instances if ti.end_date]
    return (max(ended) - min(started)).total_seconds() if started and ended else None


def _latest_run(dag_id: str):
    from airflow.models import DagRun, TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
        if run is None:
            return None, [], {}
        instances = (
            session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id).all()
        )
        session.expunge_all()
        xcoms = {
            row.key: row.value
            for row in session.query(XComModel).filter(
                XComModel.dag_id == dag_id, XComModel.run_id == run.run_id, XComModel.task_id == "plan"
            )
        }
        return run, instances, xcoms


def summarize(spec, env: dict[str, str], info: dict, *, wall_seconds: float) -> Report:
    os.environ.update(env)
    # The SDKs log every request at INFO; the summary reads a few things quietly.
    logging.getLogger("azure").setLevel(logging.WARNING)
    run, instances, plan = _latest_run(spec.dag_id)
    if run is None:
        return Report(False, f"no run of {spec.dag_id} was recorded")
    state = str(getattr(run.state, "value", run.state))
    lines = [f"\n=== {spec.dag_id}: run {run.run_id} {state.upper()} in {wall_seconds:.0f} s ==="]
    if plan:
        lines.append(f"decision: {'BUILD' if plan.get('build') else 'NO CHANGE'}: {plan.get('reason')}")
        lines.append(f"image version: {plan.get('image_version_id')}")
        lines.append(f"base image version: {plan.get('base_image_version')}")
    lines.append("phases (wall seconds):")
    regions = sorted({ti.task_id.split(".")[0] for ti in instances if ti.task_id.startswith("region_")})
    phases = [(name, prefixes) for name, prefixes in PHASES[:3]]
    phases += [(f"{r.removeprefix('region_')}: replication", (f"{r}.replicated",)) for r in regions]
    phases += [
        (f"pool {ti.task_id.split('.')[1].removeprefix('pool_')}", (ti.task_id.rsplit(".", 1)[0] + ".",))
        for ti in instances
        if ti.task_id.endswith(".create")
    ]
    phases += PHASES[3:]
    for name, prefixes in phases:
        chosen = [ti for ti in instances if ti.task_id.startswith(prefixes) and ti.start_date]
        states = {str(getattr(ti.state, "value", ti.state)) for ti in chosen} or {"skipped"}
        span = _span(chosen)
        shown = f"{span:7.1f}" if span is not None else "      -"
        lines.append(f"  {name:<32} {shown}  {', '.join(sorted(states))}")
    failed = [
        ti.task_id for ti in instances if str(getattr(ti.state, "value", ti.state)) in ("failed", "upstream_failed")
    ]
    if failed:
        lines.append(f"failed tasks: {', '.join(sorted(failed))}")
    lines += _azure_state(spec, plan, info)
    return Report(state == "success", "\n".join(lines))


def _azure_state(spec, plan: dict, info: dict) -> list[str]:
    """The version's replicas, each pool's nodes and any build resource left, read from the emulator."""
    from imagepool.hooks.batch import BatchHook
    from imagepool.hooks.versions import ImageVersionHook

    lines = []
    version = plan.get("version")
    if version:
        hook = ImageVersionHook(spec.connection)
        found = hook.get_version(spec.resource_group, spec.gallery.name, spec.gallery.image_definition, version)
        if found:
            replicas = ", ".join(f"{t['name']} {t['regional_replica_count']}" for t in found["target_regions"])
            lines.append(f"replicas per region: {replicas} ({found['provisioning_state']})")
    for pool in spec.batch.pools:
        pool_id = plan.get(f"pool_id:{pool.id_prefix}")
        url = plan.get(f"account_url:{pool.account}")
        if not (pool_id and url):
            continue
        batch = BatchHook(spec.account(pool.account).connection, batch_account_url=url)
        facts = batch.get_pool(pool_id)
        if facts is None:
            lines.append(f"pool {pool_id}: not present")
            continue
        counts = batch.pool_node_counts(pool_id)
        ready = counts.get("idle", 0) + counts.get("running", 0)
        target = plan.get(f"dedicated:{pool.id_prefix}", 0) + plan.get(f"spot:{pool.id_prefix}", 0)
        lines.append(
            f"pool {pool_id} ({pool.account}): {ready}/{target} nodes ready, allocation {facts.get('allocation_state')}"
        )
    leftovers = [
        r
        for r in requests.get(f"{info['control_endpoint']}/resources", verify=info["ca_bundle"], timeout=30).json()[
            "value"
        ]
        if r["kind"] in BUILD_KINDS
    ]
    lines.append(f"build resources left: {len(leftovers)}" + "".join(f"\n  {r['id']}" for r in leftovers))
    lines.append(f"finished {datetime.now():%H:%M:%S}")
    return lines
