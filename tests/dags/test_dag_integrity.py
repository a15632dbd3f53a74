"""The DAG files as Airflow's DAG processor sees them: one DAG per spec, the settings every pipeline
needs, the trigger form's validation and the order of the steps. No database, no network.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.definitions.mappedoperator import MappedOperator
from airflow.serialization.serialized_objects import DagSerialization

from imagepool.spec import load_spec
from tests.dags.conftest import DAGS_DIR, SPECS_DIR

SPEC_FILES = sorted(SPECS_DIR.glob("*.yaml"))
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
IMAGE_STEPS = (
    "image.ensure_gallery",
    "image.ensure_image_definition",
    "image.create_build_vm",
    "image.wait_for_build",
    "image.generalize",
    "image.snapshot",
    "image.publish_version",
)


@pytest.fixture(params=SPEC_FILES, ids=lambda p: p.stem)
def spec_and_dag(request, parsed_dags):
    spec = load_spec(request.param)
    return spec, parsed_dags.bag.dags[spec.dag_id]


@pytest.fixture
def demo(parsed_dags):
    """The demo spec's DAG: two regions with a pool each."""
    spec = load_spec(SPECS_DIR / "ubuntu-batch.yaml")
    return spec, parsed_dags.bag.dags[spec.dag_id]


def test_dag_files_import_without_errors(parsed_dags):
    assert parsed_dags.bag.import_errors == {}


def test_parsing_needs_no_connection_and_no_network(parsed_dags):
    # The bag was parsed with no azure_default connection and every socket connect refused.
    assert parsed_dags.connect_attempts == []
    assert parsed_dags.bag.dags


def test_every_spec_has_exactly_one_dag_and_every_dag_file_one_dag(parsed_dags):
    dags = parsed_dags.bag.dags.values()
    assert sorted(d.dag_id for d in dags) == sorted(load_spec(p).dag_id for p in SPEC_FILES)
    assert sorted(Path(d.fileloc) for d in dags) == DAG_FILES


def test_pipeline_settings(spec_and_dag):
    spec, dag = spec_and_dag
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.schedule == spec.schedule
    assert {"imagepool", spec.name} <= set(dag.tags)
    assert spec.gallery.image_definition in dag.doc_md
    assert dag.default_args["retries"] >= 2
    assert all(task.retries >= 2 for task in dag.tasks)


def trigger(dag, conf: dict) -> dict:
    """The run's parameters as Airflow checks them when a run is triggered with ``conf``."""
    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).params.deep_merge(conf).validate()


@pytest.mark.parametrize(
    "conf",
    [
        {},
        {"force_rebuild": True, "base_image_version": "22.04.202411010"},
        {"base_image_version": "latest"},
        {"pool_nodes": {"render-we": {"dedicated": 300, "spot": 0}}},
        {"pool_nodes": {"render-ne": {"spot": 5}}, "skip_pools": True},
    ],
    ids=["defaults", "forced", "latest", "one-pool", "partial-size"],
)
def test_the_trigger_form_accepts(demo, conf):
    _, dag = demo
    params = trigger(dag, conf)
    assert {k: params[k] for k in conf} == conf


def test_the_trigger_form_defaults_to_the_spec(demo):
    spec, dag = demo
    params = trigger(dag, {})
    assert (params["force_rebuild"], params["base_image_version"], params["skip_pools"]) == (False, None, False)
    assert params["pool_nodes"] == {
        p.id_prefix: {"dedicated": p.dedicated_nodes, "spot": p.spot_nodes} for p in spec.batch.pools
    }


def test_the_image_is_built_before_any_region_uses_it(spec_and_dag):
    spec, dag = spec_and_dag
    for region in spec.target_regions:
        sensor = dag.task_dict[f"region_{region.name}.replicated"]
        assert {"image.publish_version", "scale_replicas"} <= sensor.upstream_task_ids
        assert set(IMAGE_STEPS) <= sensor.get_flat_relative_ids(upstream=True)


def test_snapshots_are_one_mapped_task_per_disk(spec_and_dag):
    _, dag = spec_and_dag
    assert isinstance(dag.task_dict["image.snapshot"], MappedOperator)


def test_build_resources_are_cleaned_up_by_a_teardown_of_the_build_vm(spec_and_dag):
    _, dag = spec_and_dag
    cleanup = dag.task_dict["image.cleanup_build_resources"]
    assert cleanup.is_teardown
    # The setup is the step before the VM's creation: a creation that failed leaves a VM to delete.
    assert [t.task_id for t in cleanup.upstream_list if t.is_setup] == ["image.ensure_image_definition"]
    assert "image.create_build_vm" in cleanup.get_flat_relative_ids(upstream=True)
    # Snapshots and the managed image feed the version until every region has its copy.
    assert "image.replicated_everywhere" in cleanup.upstream_task_ids


def test_each_pool_waits_for_its_own_region_only(demo):
    spec, dag = demo
    regions = {r.name for r in spec.target_regions}
    for pool in spec.batch.pools:
        region = spec.account(pool.account).location
        waits_for = dag.task_dict[f"region_{region}.pool_{pool.id_prefix}.create"].get_flat_relative_ids(upstream=True)
        assert f"region_{region}.replicated" in waits_for
        assert not {f"region_{other}.replicated" for other in regions - {region}} & waits_for
        assert "image.replicated_everywhere" not in waits_for


def test_old_versions_are_pruned_after_the_pools_using_them_are_retired(spec_and_dag):
    spec, dag = spec_and_dag
    prune = dag.task_dict["prune_versions"]
    for pool in spec.batch.pools:
        group = f"region_{spec.account(pool.account).location}.pool_{pool.id_prefix}"
        assert {f"{group}.promote", f"{group}.retire_previous"} <= prune.upstream_task_ids
