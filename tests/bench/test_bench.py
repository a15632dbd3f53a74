"""The bench's pure parts: the critical path, the image families it writes, and its results document.
The timed run itself (make bench) is not a test.
"""

from __future__ import annotations

import json
import math

import pytest

from bench import report
from bench.critical_path import longest_path, pool_ready_s, realized, replication_s, task_costs
from bench.families import write_families
from bench.settings import DURATIONS, SPEC
from bench.stack_runs import covered_s
from imagepool.spec import load_spec

DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def test_the_longest_branch_is_the_critical_path():
    assert longest_path(DIAMOND, {"a": 1, "b": 5, "c": 2, "d": 1}) == (7, ["a", "b", "d"])
    assert longest_path(DIAMOND, {"a": 1, "b": 2, "c": 5, "d": 1}) == (7, ["a", "c", "d"])


def test_a_task_without_a_cost_waits_for_nothing_and_ties_go_to_the_first_name():
    assert longest_path(DIAMOND, {"b": 3, "c": 3}) == (3, ["a", "b", "d"])
    assert longest_path({"x": [], "y": []}, {}) == (0, ["x"])
    assert longest_path({}, {}) == (0.0, [])


def test_a_task_that_ends_early_is_not_on_the_path_of_a_longer_one_beside_it():
    graph = {"start": [], "long": ["start"], "short": ["start"], "after_short": ["short"]}
    assert longest_path(graph, {"long": 10, "short": 1, "after_short": 2}) == (10, ["start", "long"])


def test_a_cycle_is_refused():
    with pytest.raises(Exception, match="cycle"):
        longest_path({"a": ["b"], "b": ["a"]}, {})


def test_a_runs_time_along_the_path_splits_into_waiting_to_start_work_and_azure():
    path = [
        {"task_id": "a", "emulated_s": 0},
        {"task_id": "b", "emulated_s": 400},
        {"task_id": "skipped", "emulated_s": 0},
        {"task_id": "c", "emulated_s": 40},
    ]
    timeline = [
        {"task_id": "a", "start": 2, "end": 3},
        {"task_id": "b", "start": 4, "end": 16},
        {"task_id": "b", "start": 4.5, "end": 17},
        {"task_id": "c", "start": 19, "end": 22},
    ]
    # At 40x: b waits 10 s for Azure and c 1 s; a starts 2 s in, b 1 s after a, c 2 s after b's last instance.
    assert realized(path, timeline, 40) == {"between_tasks_s": 5.0, "in_tasks_beyond_azure_s": 6.0, "azure_s": 11.0}


DURATIONS_TABLE = {
    "version_prepare": 100,
    "replication_per_region": 1000,
    "replication_per_extra_replica": 10,
    "pool_allocation_start": 200,
    "pool_allocation_per_replica_batch": 300,
    "vms_per_replica": 300,
    "node_boot": 100,
    "node_agent_start": 50,
    "start_task": 40,
}


def test_overlapping_waits_count_once():
    assert covered_s([(10, 20), (15, 30), (40, 41)]) == 21
    assert covered_s([(0, 5), (1, 2)]) == 5
    assert covered_s([]) == 0


def test_replication_grows_by_a_step_per_extra_replica():
    assert replication_s(DURATIONS_TABLE, 1) == 1100
    assert replication_s(DURATIONS_TABLE, 4) == 1130


def test_a_pool_is_ready_when_its_last_required_node_has_started():
    # 10 nodes over one 300 s window: the 9th (90 %) arrives at 270 s, then boots, starts and runs its start task.
    assert pool_ready_s(DURATIONS_TABLE, nodes=10, replicas=1, healthy_fraction=0.9, start_task=True) == 200 + 270 + 190
    assert (
        pool_ready_s(DURATIONS_TABLE, nodes=10, replicas=1, healthy_fraction=1.0, start_task=False) == 200 + 300 + 150
    )
    # 900 nodes on one replica take three windows; on three replicas one.
    assert (
        pool_ready_s(DURATIONS_TABLE, nodes=900, replicas=1, healthy_fraction=1.0, start_task=False) == 200 + 900 + 150
    )
    assert (
        pool_ready_s(DURATIONS_TABLE, nodes=900, replicas=3, healthy_fraction=1.0, start_task=False) == 200 + 300 + 150
    )


def test_the_bench_specs_critical_path_runs_through_the_build_replication_and_the_slower_pool():
    spec = load_spec(SPEC)
    graph = {
        "plan": [],
        "image.ensure_gallery": ["plan"],
        "image.create_build_vm": ["image.ensure_gallery"],
        "image.wait_for_build": ["image.create_build_vm"],
        "image.publish_version": ["image.wait_for_build"],
        "region_westeurope.replicated": ["image.publish_version"],
        "region_uksouth.replicated": ["image.publish_version"],
        "region_westeurope.pool_bench-we.steady": ["region_westeurope.replicated"],
        "region_northeurope.replicated": ["image.publish_version"],
        "region_northeurope.pool_bench-ne.steady": ["region_northeurope.replicated"],
        "image.cleanup_build_resources": ["region_uksouth.replicated"],
    }
    costs = task_costs(graph, spec, DURATIONS)
    assert costs["plan"] == costs["image.publish_version"] == 0
    assert costs["image.wait_for_build"] == DURATIONS["build_linux"]
    # The pool in westeurope has a start task; both have one replica and fewer nodes than a window's worth.
    assert costs["region_westeurope.pool_bench-we.steady"] > costs["region_northeurope.pool_bench-ne.steady"]
    total, path = longest_path(graph, costs)
    assert path[-2:] == ["region_westeurope.replicated", "region_westeurope.pool_bench-we.steady"]
    assert total == sum(costs[t] for t in path)


def test_the_families_differ_only_in_their_names_and_each_has_its_dag_file(tmp_path):
    paths = write_families(SPEC, tmp_path, 3)
    specs = [load_spec(p) for p in paths]
    assert [s.dag_id for s in specs] == ["imagepool_bench_01", "imagepool_bench_02", "imagepool_bench_03"]
    dag_file = (tmp_path / "dags" / "bench_02.py").read_text()
    assert f"pipeline_dag({str(paths[1])!r})" in dag_file
    compile(dag_file, "bench_02.py", "exec")
    prefixes = [p.id_prefix for s in specs for p in s.batch.pools]
    assert len(set(prefixes)) == len(prefixes)
    assert len({s.gallery.image_definition for s in specs}) == 3
    base = load_spec(SPEC)
    for spec in specs:
        assert spec.replicas_per_region() == base.replicas_per_region()
        assert spec.build.data_disks == base.build.data_disks
        assert [p.target_nodes for p in spec.batch.pools] == [p.target_nodes for p in base.batch.pools]


def results() -> dict:
    """A results document as the bench writes it, with made-up numbers."""
    values = {
        "overhead_ratio": 1.2,
        "speedup_vs_baseline": 1.3,
        "requests_dag / requests_baseline": 0.5,
        "concurrency_ratio": 1.25,
    }
    tally = {"requests": 10, "bytes": 2000, "arm": 6, "batch": 4}
    poll = {"requests": 1, "bytes": 900, "state": "waiting"}
    slots = {"running": 100.0, "deferred": 200.0, "waiting_for_slot": 5.0}
    return {
        "generated": "2026-01-01 00:00 UTC",
        "machine": {"cpus": 2, "load_before": [1.0, 1.0, 1.0], "load_after": [1.0, 1.0, 1.0]},
        "settings": {
            "speed": 40.0,
            "durations": DURATIONS,
            "spec": "bench/specs/bench.yaml",
            "spec_summary": "2 data disks, 3 target regions, 2 pools",
            "families": 10,
            "parallelism": 4,
        },
        "bench_wall_s": 700.0,
        "critical_path_s": 100.0,
        "critical_path": {
            "emulated_s": 4000.0,
            "real_s": 100.0,
            "tasks": [{"task_id": "plan", "emulated_s": 0.0}, {"task_id": "b", "emulated_s": 4000}],
            "realized": {"between_tasks_s": 8.0, "in_tasks_beyond_azure_s": 9.0, "azure_s": 100.0},
        },
        "dag_wall_s": 120.0,
        "overhead_ratio": 1.2,
        "overhead_ratio_without_retry_waits": 1.2,
        "baseline_wall_s": 156.0,
        "speedup_vs_baseline": 1.3,
        "requests_dag": 10,
        "requests_baseline": 20,
        "requests_detail": {"pipeline": tally, "baseline": tally},
        "single_wall_s": 120.0,
        "concurrent_wall_s": 150.0,
        "concurrency_ratio": 1.25,
        "worker_slot_s": {"single": slots, "concurrent": slots},
        "retries": {"single": {"tries": 0, "waiting_s": 0.0}, "concurrent": {"tries": 1, "waiting_s": 70.0}},
        "scale": {
            "pool_poll": {
                n: {"resizing": poll, "steady": poll, "node_listing": {**tally, "nodes": int(n)}}
                for n in ("50", "5000")
            },
            "replication_poll": {"3": {**poll, "regions": 3}, "10": {**poll, "regions": 10}},
            "triggerer_memory": {
                "waits": 100,
                "idle_kb": 90000,
                "one_wait_kb": 95000,
                "100_waits_kb": 120000,
                "per_wait_kb": 252.5,
            },
        },
        "targets": report.targets(values),
        "timeline": {
            "dag": [
                {"task_id": "plan", "map_index": -1, "try_number": 1, "start": 1.0, "end": 3.0},
                {"task_id": "b", "map_index": -1, "try_number": 2, "start": 3.0, "end": 110.0},
            ],
            "baseline": [{"step": "gallery", "start": 0.0, "end": 2.0}],
        },
    }


def test_targets_are_read_against_their_bounds():
    found = results()["targets"]
    assert found["overhead_ratio"] == {"value": 1.2, "target": "<= 1.1", "met": False}
    assert found["speedup_vs_baseline"]["met"] is False
    assert found["requests_dag / requests_baseline"]["met"] is True
    assert found["concurrency_ratio"]["met"] is True


def test_a_complete_results_document_is_written_as_json_a_table_and_a_chart(tmp_path):
    report.write(results(), tmp_path)
    assert report.problems(json.loads((tmp_path / "latest.json").read_text())) == []
    table = (tmp_path / "latest.md").read_text()
    assert "| overhead ratio (wall / critical path) | **1.20** | <= 1.1: missed |" in table
    assert (tmp_path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_results_document_with_a_missing_extra_or_mistyped_key_is_refused(tmp_path):
    broken = results()
    del broken["requests_dag"]
    broken["surprise"] = 1
    broken["dag_wall_s"] = "120"
    assert report.problems(broken) == [
        "missing key 'requests_dag'",
        "unexpected key 'surprise'",
        "'dag_wall_s' is str, not float",
    ]
    with pytest.raises(ValueError, match="missing key 'requests_dag'"):
        report.write(broken, tmp_path)
    assert not (tmp_path / "latest.json").exists()


def test_the_bench_pins_every_duration_the_emulator_knows():
    from azure_emulator.durations import DEFAULTS

    assert set(DURATIONS) == set(DEFAULTS)
    assert all(math.isfinite(v) and v >= 0 for v in DURATIONS.values())


class FlakyApi:
    """Airflow's API answering the first triggers with the stack's errors, then as told."""

    def __init__(self, *answers: str):
        self.answers, self.posted = list(answers), []

    def post(self, path, json):
        self.posted.append((path, json["dag_run_id"]))
        answer = self.answers.pop(0)
        if answer != "ok":
            raise RuntimeError(f"POST http://api{path}: {answer}: ...")


def test_a_trigger_the_database_was_too_busy_for_is_sent_again_with_the_same_run_id():
    from bench.stack_runs import trigger

    api = FlakyApi("HTTP 500", "HTTP 409")
    run_id = trigger(api, "d")
    assert api.posted == [("/dags/d/dagRuns", run_id)] * 2


def test_a_trigger_refused_for_another_reason_is_not_sent_again():
    from bench.stack_runs import trigger

    api = FlakyApi("HTTP 404")
    with pytest.raises(RuntimeError, match="HTTP 404"):
        trigger(api, "d")
    assert len(api.posted) == 1


def test_the_readme_gets_the_latest_summary_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# x\n\n## Performance\n\nWhy.\n\n{report.README_START}\nold table\n{report.README_END}\n\n## Next\n"
    )
    report.update_readme(results(), readme)
    once = readme.read_text()
    assert "old table" not in once
    assert once.startswith("# x\n\n## Performance\n\nWhy.\n\n")
    assert once.endswith(f"{report.README_END}\n\n## Next\n")
    assert "| overhead ratio (wall / critical path) | **1.20** | <= 1.1: missed |" in once
    assert "bench/results/timeline.png" in once
    report.update_readme(results(), readme)
    assert readme.read_text() == once
