"""The pipeline DAG for one spec: build the image when its inputs changed, then roll the pools onto it.

::

    plan ─┬─ build_needed ── image: gallery ─ definition ─ build VM ─ wait for build ─ generalize
          │                         ─ snapshot each disk ─ [managed image] ─ publish version
          ├─ nothing_changed ── scale_replicas
          └─ pools_wanted
    region_<r>: replicated (as soon as <r> has the version; other regions may still copy)
        pool_<p>: create ─ steady ─ smoke ─ promote ─ retire previous      (discard on failure)
    prune_versions (once every pool is promoted and the pools it replaces are retired)
    image.replicated_everywhere ─ image.cleanup_build_resources (teardown of the build VM: every path)

The DAG reads its spec when the DAG file is parsed (a local file); every Azure call happens in
tasks. Values the run decides (version, names, sizes) come from the ``plan`` task's XComs.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.sdk import DAG, Asset, Param, TaskGroup, conf, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from imagepool.hooks.connection import InvalidConnection
from imagepool.notifications import RunNotifications
from imagepool.operators.batch import (
    AzureBatchPoolCreateOperator,
    AzureBatchPoolRetireOperator,
    AzureBatchSmokeJobOperator,
)
from imagepool.operators.cleanup import AzureBuildResourcesCleanupOperator
from imagepool.operators.disks import AzureManagedImageCreateOperator, AzureSnapshotCreateOperator
from imagepool.operators.gallery import AzureGalleryEnsureOperator, AzureGalleryImageDefinitionEnsureOperator
from imagepool.operators.versions import (
    AzureImageVersionPruneOperator,
    AzureImageVersionPublishOperator,
    AzureImageVersionReplicasScaleOperator,
)
from imagepool.operators.vm import AzureBuildVmCreateOperator, AzureBuildVmGeneralizeOperator
from imagepool.planning import LAST_VERSION_TAG, MAX_POOL_NODES, RunParams, RunParamsError, describe, make_plan
from imagepool.sensors.batch import AzureBatchPoolSteadySensor
from imagepool.sensors.versions import AzureImageVersionReplicationSensor
from imagepool.sensors.vm import AzureBuildVmFinishedSensor
from imagepool.spec import Pool, Spec, load_spec

SPECS_DIR = Path(os.environ.get("IMAGEPOOL_SPECS_DIR", Path(__file__).resolve().parents[2] / "include" / "specs"))
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
log = logging.getLogger(__name__)
# A few seconds of Azure time are cheaper to wait out on the worker than a deferral's two task starts;
# longer, and the worker slot held while looking costs more than the deferral saves.
DEFER_AFTER_S = 5.0
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=1), "retry_exponential_backoff": True}


def image_asset(spec: Spec) -> Asset:
    return Asset(
        name=f"imagepool/{spec.name}/image",
        uri=f"azure-compute-gallery://{spec.resource_group}/{spec.gallery.name}/{spec.gallery.image_definition}",
    )


def pool_asset(spec: Spec, pool: Pool) -> Asset:
    account = spec.account(pool.account)
    return Asset(
        name=f"imagepool/{spec.name}/pool/{pool.id_prefix}",
        uri=f"azure-batch-pool://{account.name}.{account.location}/{pool.id_prefix}",
    )


def definition_security_type(spec: Spec) -> str:
    # A Trusted Launch build publishes into a definition that supports it without forcing it on pools.
    return "TrustedLaunchSupported" if spec.security_type == "TrustedLaunch" else "Standard"


def run_params(spec: Spec) -> dict[str, Param]:
    pool_sizes = {p.id_prefix: {"dedicated": p.dedicated_nodes, "spot": p.spot_nodes} for p in spec.batch.pools}
    size = {"type": "integer", "minimum": 0, "maximum": MAX_POOL_NODES}
    return {
        "force_rebuild": Param(
            False,
            type="boolean",
            title="Force rebuild",
            description="Build a new image version even if nothing changed.",
        ),
        # null makes the field optional: the trigger form will not submit an empty required field.
        "base_image_version": Param(
            None,
            type=["null", "string"],
            pattern=r"^(|latest|\d+(\.\d+)*)$",
            title="Base image version",
            description="Marketplace version to build from instead of the spec's "
            f"({spec.base_image.version}); empty keeps the spec's.",
        ),
        "pool_nodes": Param(
            pool_sizes,
            type="object",
            title="Pool sizes",
            description="Dedicated and spot nodes per pool (by id prefix) for this run.",
            propertyNames={"enum": sorted(pool_sizes)},
            additionalProperties={
                "type": "object",
                "additionalProperties": False,
                "properties": {"dedicated": size, "spot": size},
            },
        ),
        "skip_pools": Param(
            False,
            type="boolean",
            title="Skip pools",
            description="Build and publish the image only; leave the pools as they are.",
        ),
    }


def run_inputs(spec: Spec, params: dict) -> RunParams:
    """The run's trigger parameters, checked with the spec's connections before any Azure call.

    Bad input fails the run at once, naming the parameter: a retry cannot mend it.
    """
    from imagepool.pipeline_state import HookState

    try:
        run = RunParams.from_params(params)
        run.check(spec)
        if not run.skip_pools:
            HookState(spec).check_connections()
    except (RunParamsError, InvalidConnection) as exc:
        raise AirflowFailException(str(exc)) from None
    return run


def doc_md(spec: Spec) -> str:
    pools = (
        "\n".join(
            f"- `{p.id_prefix}` in `{p.account}`: {p.dedicated_nodes} dedicated + {p.spot_nodes} spot `{p.vm_size}`"
            for p in spec.batch.pools
        )
        or "- none"
    )
    regions = ", ".join(r.name for r in spec.target_regions)
    return f"""# {spec.name}

{spec.description}

Builds `{spec.gallery.name}/{spec.gallery.image_definition}` ({spec.os_type}, {spec.hyper_v_generation},
{spec.security_type}) from `{spec.base_image.publisher}:{spec.base_image.offer}:{spec.base_image.sku}`,
replicates it to {regions} and rolls these Batch pools onto it:

{pools}

**Schedule**: `{spec.schedule or "manual only"}` (UTC). A run whose inputs (resolved base image,
build script, spec) match the newest version builds nothing: it reconciles replicas and pool
sizes and says so in the `plan` task's log.

**Trigger form**: *Force rebuild*; *Base image version* (a Marketplace version instead of the
spec's); *Pool sizes* (nodes per pool for this run; replicas follow); *Skip pools* (publish only).

**Order**: plan, then the image (build VM, wait, generalize, snapshots, image, publish), each
region as soon as it has the version (replication, then its pools: create, wait until steady and
healthy, smoke job, promote, retire the previous pool), then old versions are pruned. Build
resources are deleted at the end on every path (`image.cleanup_build_resources`).
"""


def pipeline_dag(spec_file: str | Path) -> DAG:
    """The DAG for one spec file (a name in ``include/specs/`` or a path)."""
    path = Path(spec_file) if Path(spec_file).is_absolute() else SPECS_DIR / spec_file
    spec = load_spec(path)
    azure = {"azure_conn_id": spec.connection, "resource_group_name": spec.resource_group}
    # How often waits look at Azure, and how long the spec's time limits last: Azure-sized by default;
    # [imagepool] in airflow.cfg changes them (the local emulator, whose clock runs faster, is polled
    # proportionally faster, and its builds time out proportionally sooner).
    # A wait still going after ``defer_after`` seconds on the worker defers; shorter ones (a gallery, a
    # job, a VM that is nearly up) end in place, sparing two task starts.
    polling = {
        "poll_interval": conf.getfloat("imagepool", "poll_interval", fallback=15.0),
        "max_poll_interval": conf.getfloat("imagepool", "max_poll_interval", fallback=120.0),
        "defer_after": conf.getfloat("imagepool", "defer_after", fallback=DEFER_AFTER_S),
    }
    timeout_scale = conf.getfloat("imagepool", "timeout_scale", fallback=1.0)
    # A failed task tries again after ``retry_delay`` seconds, doubling each time: long enough for Azure's
    # transient trouble to pass (against the local emulator, it passes as fast as its clock runs).
    retrying = {
        "retry_delay": timedelta(
            seconds=conf.getfloat("imagepool", "retry_delay", fallback=DEFAULT_ARGS["retry_delay"].total_seconds())
        )
    }
    # Every task records why it failed for good (the imagepool view shows it) and tells whom the spec names.
    notifications = RunNotifications(spec.name, spec.notify)
    with DAG(
        dag_id=spec.dag_id,
        schedule=spec.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, **polling, **retrying, "on_failure_callback": notifications.on_failure},
        tags=["imagepool", spec.name, spec.os_type.lower()],
        doc_md=doc_md(spec),
        params=run_params(spec),
        description=spec.description or f"imagepool image family {spec.name}",
    ) as dag:

        @task(multiple_outputs=True)
        def plan(params=None):
            from imagepool.pipeline_state import HookState

            decided = make_plan(spec, path, run_inputs(spec, params or {}), HookState(spec))
            log.info("%s", describe(decided))
            return decided

        decided = plan()

        @task.short_circuit(ignore_downstream_trigger_rules=False)
        def build_needed(build: bool) -> bool:
            return build

        @task.short_circuit(ignore_downstream_trigger_rules=False)
        def nothing_changed(build: bool, reason: str) -> bool:
            if not build:
                log.info("No new image: %s", reason)
            return not build

        @task.short_circuit(ignore_downstream_trigger_rules=False)
        def pools_wanted(skip_pools: bool) -> bool:
            return not skip_pools

        with TaskGroup("image") as image:
            built = _image_steps(spec, decided, azure, timeout_scale)
        build_needed(decided["build"]) >> image
        scale = AzureImageVersionReplicasScaleOperator(
            task_id="scale_replicas",
            gallery_name=spec.gallery.name,
            image_name=spec.gallery.image_definition,
            version=decided["version"],
            pools=decided["pools_for_replicas"],
            replica_counts=decided["replicas"],
            vms_per_replica=spec.vms_per_replica,
            **azure,
        )
        nothing_changed(decided["build"], decided["reason"]) >> scale
        pools_gate = pools_wanted(decided["skip_pools"])

        replicated = []
        rolled_out = []
        for region in spec.target_regions:
            with TaskGroup(f"region_{region.name}"):
                ready = AzureImageVersionReplicationSensor(
                    task_id="replicated",
                    gallery_name=spec.gallery.name,
                    image_name=spec.gallery.image_definition,
                    version=decided["version"],
                    regions=[region.name],
                    trigger_rule="none_failed_min_one_success",
                    **azure,
                )
                [built["publish"], scale] >> ready
                replicated.append(ready)
                for pool in spec.batch.pools:
                    if spec.account(pool.account).location != region.name:
                        continue
                    rolled_out += _pool_steps(spec, pool, decided, [ready, pools_gate], notifications)

        AzureImageVersionPruneOperator(
            task_id="prune_versions",
            gallery_name=spec.gallery.name,
            image_name=spec.gallery.image_definition,
            keep=spec.version.retention,
            promoted_version=decided["version"],
            batch_account_urls=[decided[f"account_url:{a.name}"] for a in spec.batch.accounts],
            trigger_rule="none_failed_min_one_success",
            **azure,
        ).set_upstream(rolled_out or replicated)
    return dag


def _image_steps(spec: Spec, decided, azure: dict, timeout_scale: float) -> dict:
    """Gallery, definition, build VM and its wait, generalize, snapshots, image, publish; cleanup teardown."""
    gallery = AzureGalleryEnsureOperator(
        task_id="ensure_gallery",
        gallery_name=spec.gallery.name,
        location=spec.gallery.location,
        tags=spec.tags,
        **azure,
    )
    definition = AzureGalleryImageDefinitionEnsureOperator(
        task_id="ensure_image_definition",
        gallery_name=spec.gallery.name,
        image_name=spec.gallery.image_definition,
        location=spec.gallery.location,
        os_type=spec.os_type,
        hyper_v_generation=spec.hyper_v_generation,
        security_type=definition_security_type(spec),
        publisher=spec.gallery.publisher,
        offer=spec.gallery.offer,
        sku=spec.gallery.sku,
        tags={**spec.tags, LAST_VERSION_TAG: decided["version"]},
        **azure,
    )
    build = spec.build
    build_vm = AzureBuildVmCreateOperator(
        task_id="create_build_vm",
        vm_name=decided["vm_name"],
        location=build.location,
        vm_size=build.vm_size,
        image_publisher=spec.base_image.publisher,
        image_offer=spec.base_image.offer,
        image_sku=spec.base_image.sku,
        image_version=decided["base_image_version"],
        subnet_id=build.subnet_id,
        build_script=decided["build_script"],
        os_type=spec.os_type,
        security_type=spec.security_type,
        admin_username=build.admin_username,
        ssh_public_key=build.ssh_public_key,
        os_disk_size_gb=build.os_disk_size_gb,
        data_disk_sizes_gb=[d.size_gb for d in build.data_disks],
        storage_account_type=build.os_disk_storage_account_type,
        public_ip=build.public_ip,
        tags={**spec.tags, "imagepool-spec": spec.name},
        **azure,
    )
    finished = AzureBuildVmFinishedSensor(
        task_id="wait_for_build",
        vm_name=decided["vm_name"],
        timeout=build.timeout_minutes * 60 * timeout_scale,
        **azure,
    )
    generalize = AzureBuildVmGeneralizeOperator(task_id="generalize", vm_name=decided["vm_name"], **azure)

    @task
    def disks_of(vm: dict) -> list[dict]:
        """The build VM's disks, one snapshot task each."""
        return vm["disks"]

    disks = disks_of(build_vm.output)
    snapshots = AzureSnapshotCreateOperator.partial(
        task_id="snapshot", run_key=decided["run_key"], tags=spec.tags, **azure
    ).expand_kwargs(disks)
    gallery >> definition >> build_vm >> finished >> generalize >> disks
    version_args = dict(
        task_id="publish_version",
        gallery_name=spec.gallery.name,
        image_name=spec.gallery.image_definition,
        version=decided["version"],
        target_regions=decided["target_regions"],
        location=spec.gallery.location,
        exclude_from_latest=spec.version.exclude_from_latest,
        end_of_life_date=decided["end_of_life_date"],
        tags=decided["version_tags"],
        **azure,
    )
    if spec.image_path == "managed_image":
        managed = AzureManagedImageCreateOperator(
            task_id="managed_image",
            image_name=decided["managed_image_name"],
            snapshots=snapshots.output,
            tags=spec.tags,
            **azure,
        )
        publish = AzureImageVersionPublishOperator(source_image_id=managed.output, **version_args)
    else:

        @task(multiple_outputs=True)
        def snapshot_sources(taken) -> dict:
            """The OS snapshot and the data snapshots by LUN, for a version published straight from snapshots."""
            taken = list(taken)
            return {
                "os": next(s["snapshot_id"] for s in taken if s["lun"] == "os"),
                "data": {str(s["lun"]): s["snapshot_id"] for s in taken if s["lun"] != "os"},
            }

        sources = snapshot_sources(snapshots.output)
        publish = AzureImageVersionPublishOperator(
            os_snapshot_id=sources["os"], data_snapshot_ids=sources["data"], **version_args
        )
    keep = False
    if build.keep_resources_on_failure:
        keep = build_failed()
        publish >> keep
    # Snapshots and the managed image are the version's source until every region has its copy; the
    # regions' pools do not wait for this, only the cleanup does.
    copied = AzureImageVersionReplicationSensor(
        task_id="replicated_everywhere",
        gallery_name=spec.gallery.name,
        image_name=spec.gallery.image_definition,
        version=decided["version"],
        regions=None,
        **azure,
    )
    # A teardown runs only if its setup succeeded, and a VM whose provisioning failed is still in Azure (with
    # its disks and NIC): the setup is the step before the VM's creation, so a failed creation is cleaned up too.
    cleanup = AzureBuildResourcesCleanupOperator(
        task_id="cleanup_build_resources", vm_name=decided["vm_name"], keep=keep, **azure
    ).as_teardown(setups=definition, on_failure_fail_dagrun=True)
    publish >> copied >> cleanup
    return {"publish": publish}


def build_failed():
    """True when a step of this run's image build failed (the spec then keeps the build resources)."""

    @task(trigger_rule="all_done")
    def any_image_step_failed(**context) -> bool:
        ti = context["ti"]
        failed = ti.get_ti_count(
            dag_id=ti.dag_id, task_group_id="image", run_ids=[ti.run_id], states=["failed", "upstream_failed"]
        )
        if failed:
            log.warning("%d image step(s) failed: keeping the build resources for debugging, as the spec asks", failed)
        return failed > 0

    return any_image_step_failed()


def _pool_steps(spec: Spec, pool: Pool, decided, upstream: list, notifications: RunNotifications) -> list:
    """One pool onto the new version: create, wait steady and healthy, smoke, promote, retire previous.

    Returns the promotion and the retirement: pruning waits for both, since a version a pool still boots
    from is kept, and the previous pools boot from the version pruning should remove.
    """
    account = spec.account(pool.account)
    batch = {"azure_conn_id": account.connection, "batch_account_url": decided[f"account_url:{account.name}"]}
    pool_id = decided[f"pool_id:{pool.id_prefix}"]
    with TaskGroup(f"pool_{pool.id_prefix}"):
        start = pool.start_task
        create = AzureBatchPoolCreateOperator(
            task_id="create",
            pool_id=pool_id,
            image_version_id=decided["image_version_id"],
            vm_size=pool.vm_size,
            node_agent_sku_id=pool.node_agent_sku_id,
            target_dedicated_nodes=decided[f"dedicated:{pool.id_prefix}"],
            target_low_priority_nodes=decided[f"spot:{pool.id_prefix}"],
            resize_timeout=pool.resize_timeout_minutes * 60 if pool.resize_timeout_minutes else None,
            start_task_command=start.command if start else None,
            start_task_wait_for_success=start.wait_for_success if start else True,
            start_task_elevated=start.elevated if start else False,
            start_task_max_retries=start.max_retries if start else 0,
            task_slots_per_node=pool.task_slots_per_node,
            os_type=spec.os_type,
            image_security_type=definition_security_type(spec),
            security_type="trustedLaunch" if spec.security_type == "TrustedLaunch" else None,
            metadata={"imagepool-spec": spec.name, "imagepool-version": decided["version"]},
            batch_account_name=account.name,
            resource_group_name=account.resource_group or spec.resource_group,
            **batch,
        )
        upstream >> create
        steady = AzureBatchPoolSteadySensor(
            task_id="steady",
            pool_id=pool_id,
            min_healthy_fraction=pool.required_healthy_fraction,
            max_failed_fraction=round(1 - pool.required_healthy_fraction, 6),
            on_success_callback=notifications.on_degraded,
            **batch,
        )
        smoke = AzureBatchSmokeJobOperator(task_id="smoke", pool_id=pool_id, command_line=pool.smoke_command, **batch)

        @task(task_id="promote", outlets=[pool_asset(spec, pool), image_asset(spec)])
        def promote(new_pool: str, version: str, previous: list, existed: bool, *, outlet_events=None) -> list:
            """The new pool passed its smoke job: it is now the one to use. Returns the pools to retire.

            A pool that was already in service is not promoted again (no new Asset event), so
            assets fire only for new pools and versions.
            """
            if existed and not previous:
                raise AirflowSkipException(f"pool {new_pool} on {version} is already in service")
            facts = {"pool_id": new_pool, "version": version, "account": account.name, "retiring": previous}
            outlet_events[pool_asset(spec, pool)].extra = facts
            outlet_events[image_asset(spec)].extra = {"version": version}
            log.info("Promoted pool %s on image version %s; retiring %s", new_pool, version, previous or "nothing")
            return list(previous)

        promoted = promote(
            pool_id,
            decided["version"],
            decided[f"previous_pools:{pool.id_prefix}"],
            decided[f"pool_existed:{pool.id_prefix}"],
        )
        create >> steady >> smoke >> promoted
        retired = AzureBatchPoolRetireOperator.partial(task_id="retire_previous", **batch).expand(pool_id=promoted)

        @task.short_circuit(trigger_rule="one_failed", ignore_downstream_trigger_rules=False)
        def candidate_failed(existed: bool) -> bool:
            """Only a pool this run created is discarded; a pool in service is never taken down."""
            return not existed

        discard_gate = candidate_failed(decided[f"pool_existed:{pool.id_prefix}"])
        [steady, smoke] >> discard_gate
        discard_gate >> AzureBatchPoolRetireOperator(task_id="discard", pool_id=pool_id, **batch)
    return [promoted, retired]
