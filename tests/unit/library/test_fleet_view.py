"""The imagepool view's pieces that need neither Azure nor Airflow: the pictures, what a run decided, the
replication per region, the pools' ready nodes and the brief cache of Azure's state.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from imagepool.fleet.airflow_state import Run, TaskTimes
from imagepool.fleet.azure_state import AzureFamily, FamilyCache
from imagepool.fleet.pictures import phase_of, phase_spans, replication_bars, run_timeline
from imagepool.fleet.view import decision, pool_view, regions_of, run_url, run_view
from imagepool.spec import load_spec
from tests.conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_replication_bars_are_as_long_as_the_share_replicated():
    svg = ET.fromstring(
        replication_bars(
            [
                {"region": "westeurope", "state": "Completed", "progress": 100, "replicas": 2},
                {"region": "northeurope", "state": "Replicating", "progress": 25, "replicas": 1},
                {"region": "eastus", "state": "Failed", "progress": 0, "replicas": 1},
            ]
        )
    )
    groups = svg.findall(f"{SVG}g")
    assert [g.get("data-region") for g in groups] == ["westeurope", "northeurope", "eastus"]
    widths = [float(g.find(f"{SVG}rect[@class='bar']").get("width")) for g in groups]
    background = float(groups[0].findall(f"{SVG}rect")[0].get("width"))
    assert widths == [background, background / 4, 0.0]
    fills = [g.find(f"{SVG}rect[@class='bar']").get("fill") for g in groups]
    assert len(set(fills)) == 3  # completed, replicating and failed look different
    assert groups[0].find(f"{SVG}title").text == "westeurope: 100% completed, 2 replicas"


def test_tasks_fall_into_the_run_s_phases():
    assert [
        phase_of(t)
        for t in (
            "plan",
            "image.create_build_vm",
            "image.publish_version",
            "region_westeurope.replicated",
            "image.replicated_everywhere",
            "scale_replicas",
            "region_westeurope.pool_render-we.steady",
            "prune_versions",
            "image.cleanup_build_resources",
        )
    ] == ["plan", "build", "build", "replication", "replication", "replication", "pools", "cleanup", "cleanup"]


def a_run(state="success", **extra) -> Run:
    tasks = [
        TaskTimes("plan", -1, "success", at(0), at(5)),
        TaskTimes("scale_replicas", -1, "skipped", at(5), at(5)),
        TaskTimes("image.create_build_vm", -1, "success", at(6), at(60)),
        TaskTimes("image.publish_version", -1, "success", at(61), at(70)),
        TaskTimes("region_westeurope.replicated", -1, "success", at(71), at(130)),
        TaskTimes("region_westeurope.pool_render-we.create", -1, "success", at(131), at(140)),
        TaskTimes("region_westeurope.pool_render-we.steady", -1, state, at(141), at(200)),
        TaskTimes("image.cleanup_build_resources", -1, "success", at(150), at(180)),
    ]
    return Run("r1", "scheduled", state, T0, at(0), at(200), tasks=tasks, **extra)


def test_a_run_s_phases_span_their_tasks_and_a_skipped_branch_takes_no_time():
    spans = phase_spans(a_run())
    assert [(p, (s - T0).seconds, (e - T0).seconds, f) for p, s, e, f in spans] == [
        ("plan", 0, 5, False),
        ("build", 6, 70, False),
        ("replication", 71, 130, False),
        ("pools", 131, 200, False),
        ("cleanup", 150, 180, False),
    ]
    assert phase_spans(a_run("failed"))[3][3] is True


def test_the_timeline_draws_each_run_on_one_scale():
    runs = [run_view("imagepool_x", a_run()), run_view("imagepool_x", a_run())]
    runs[1]["run_id"] = "r0"
    runs[1]["phases"] = runs[1]["phases"][:1]  # a run that ended after its plan
    svg = ET.fromstring(run_timeline(runs))
    rows = svg.findall(f"{SVG}g[@class='run']")
    assert [r.get("data-run-id") for r in rows] == ["r1", "r0"]
    plan_widths = [float(r.find(f"{SVG}rect[@data-phase='plan']").get("width")) for r in rows]
    assert plan_widths[0] == plan_widths[1]  # 5 s is as long in both rows
    assert [r.get("data-phase") for r in rows[0].findall(f"{SVG}rect")] == [
        "plan",
        "build",
        "replication",
        "pools",
        "cleanup",
    ]
    assert run_timeline([]) == ""


def test_what_a_run_decided():
    built = a_run(plan={"build": True, "version": "1.0.3", "reason": "inputs changed since 1.0.2"})
    assert decision(built) == {"kind": "build", "text": "build 1.0.3: inputs changed since 1.0.2"}
    same = a_run(plan={"build": False, "version": "1.0.2", "reason": "nothing changed since 1.0.2"})
    assert decision(same)["kind"] == "no_change"
    degraded = a_run(
        plan={"build": False, "version": "1.0.2", "reason": "nothing changed"},
        degraded=[{"task_id": "t", "pool_id": "render-we-1-0-2", "healthy_nodes": 5, "target_nodes": 6}],
    )
    assert decision(degraded) == {
        "kind": "degraded",
        "text": "no change (1.0.2): nothing changed; degraded: render-we-1-0-2 5/6 healthy",
    }
    failed = a_run(
        "failed",
        plan={"build": True, "version": "1.0.3"},
        failures=[{"task_id": "image.create_build_vm", "code": "OSProvisioningTimedOut", "detail": "VM failed"}],
    )
    assert decision(failed) == {
        "kind": "failed",
        "text": "failed in image.create_build_vm (OSProvisioningTimedOut): VM failed",
    }
    view = run_view("imagepool_x", failed)
    assert view["failures"][0]["url"] == "/dags/imagepool_x/runs/r1/tasks/image.create_build_vm"
    assert view["url"] == "/dags/imagepool_x/runs/r1"


def test_replication_per_region_joins_azure_s_display_names_to_the_target_regions():
    version = {
        "target_regions": [
            {"name": "westeurope", "regional_replica_count": 2, "storage_account_type": "Standard_ZRS"},
            {"name": "northeurope", "regional_replica_count": 1, "storage_account_type": "Standard_LRS"},
        ],
        "replication": {"regions": [{"region": "West Europe", "state": "Replicating", "progress": 40, "details": ""}]},
    }
    assert [(r["region"], r["replicas"], r["state"], r["progress"]) for r in regions_of(version)] == [
        ("westeurope", 2, "Replicating", 40),
        ("northeurope", 1, "Unknown", 0),
    ]


def test_a_pool_s_ready_nodes_are_its_idle_and_running_ones():
    pool = pool_view(
        {
            "id": "render-we-1-0-0",
            "account": "a",
            "region": "westeurope",
            "version": "1.0.0",
            "state": "active",
            "allocation_state": "steady",
            "vm_size": "standard_d2s_v3",
            "target_dedicated_nodes": 4,
            "target_low_priority_nodes": 2,
            "node_counts": {"idle": 3, "running": 1, "startTaskFailed": 1, "starting": 1, "total": 6},
            "portal_url": "https://portal",
        }
    )
    assert (pool["ready"], pool["failed"], pool["target"]) == (4, 1, 6)
    assert pool["node_counts"] == {"idle": 3, "running": 1, "startTaskFailed": 1, "starting": 1}


def test_azure_is_read_once_per_family_while_the_cache_holds():
    spec = load_spec(ROOT / "include" / "specs" / "ubuntu-batch.yaml")
    reads = []

    def read(found_spec):
        reads.append(found_spec.name)
        return AzureFamily(read_at=datetime.now(UTC).timestamp())

    cache = FamilyCache(seconds=60, read=read)
    first = cache.get(spec)
    assert cache.get(spec) is first
    assert reads == ["ubuntu-batch"]
    expired = FamilyCache(seconds=0, read=read)
    expired.get(spec)
    expired.get(spec)
    assert reads == ["ubuntu-batch"] * 3


def test_run_links_write_the_run_id_as_the_ui_does():
    assert (
        run_url("imagepool_x", "manual__2026-12-03T02:00:00+00:00")
        == "/dags/imagepool_x/runs/manual__2026-12-03T02:00:00+00:00"
    )
    assert run_url("imagepool_x", "a b/c") == "/dags/imagepool_x/runs/a%20b%2Fc"
