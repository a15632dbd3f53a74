"""Every case of the bad-input corpus is refused by the checks that run before any Azure call, with an error
naming the field: the spec loader for specs and build scripts, the trigger form's schema and the plan
task's own check for trigger parameters, the connection check for a Batch account key.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from imagepool.spec import SpecError, load_spec
from tests.corpus import CASES, BadInput, shared_key_connection

SPECS = Path(__file__).resolve().parents[3] / "include" / "specs"
DEMO = "ubuntu-batch.yaml"
CATEGORIES = {
    "types",
    "ranges",
    "formats",
    "cross-field",
    "unknown regions",
    "unknown VM sizes",
    "shared-key auth",
    "security type vs image path",
    "batch region not targeted",
    "over 100 replicas",
    "pool ids",
    "build scripts",
    "unknown keys",
}


def demo_copy(tmp_path: Path) -> Path:
    return shutil.copytree(SPECS, tmp_path / "specs") / DEMO


@pytest.fixture(scope="module")
def demo_dag():
    """The demo spec's DAG and the form as Airflow checks it when a run is created (the serialized DAG's
    params, as the scheduler and the REST API hold them).
    """
    from airflow.serialization.serialized_objects import DagSerialization

    from imagepool.pipeline import pipeline_dag

    dag = pipeline_dag(SPECS / DEMO)
    return dag, DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))


def test_the_corpus_covers_every_category():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    counts = Counter(case.category for case in CASES)
    assert set(counts) == CATEGORIES
    kinds = Counter(case.kind for case in CASES)
    assert kinds["params"] >= 10
    assert kinds["connection"] >= 1


@pytest.fixture
def entra_default(monkeypatch):
    """The spec's default connection: a service principal (an Entra ID credential)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_DEFAULT",
        json.dumps({"conn_type": "azure", "login": "app", "password": "secret", "extra": {"tenantId": "t"}}),
    )


def test_the_demo_passes_every_check(tmp_path, entra_default, demo_dag):
    """The cases fail because of what they change: the untouched demo passes each layer."""
    from imagepool.pipeline import run_inputs

    dag, scheduled = demo_dag
    scheduled.params.deep_merge({}).validate()
    spec = load_spec(demo_copy(tmp_path))
    run = run_inputs(spec, {name: param.value for name, param in dag.params.items()})
    assert run.pool_nodes == {"render-we": {"dedicated": 4, "spot": 2}, "render-ne": {"dedicated": 2, "spot": 0}}


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "spec"], ids=lambda c: c.id)
def test_a_broken_spec_or_script_is_refused_naming_the_field(case: BadInput, tmp_path):
    spec_path = demo_copy(tmp_path)
    case.apply(spec_path)

    with pytest.raises(SpecError) as refused:
        load_spec(spec_path)

    assert str(refused.value).startswith(f"{spec_path}:")
    assert case.names_field(str(refused.value)), str(refused.value)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "params"], ids=lambda c: c.id)
def test_bad_trigger_params_are_refused_naming_the_field(case: BadInput, demo_dag):
    from airflow.sdk.exceptions import AirflowFailException, ParamValidationError

    from imagepool.pipeline import run_inputs

    dag, scheduled = demo_dag
    top_level = case.field.split(".")[0]
    if case.form:
        with pytest.raises(ParamValidationError, match=f"Invalid input for param {top_level}:"):
            scheduled.params.deep_merge(case.params).validate()
    else:
        # Airflow's form lets these through (unknown keys are kept, sizes are checked one by one).
        scheduled.params.deep_merge(case.params).validate()
    # However the run was started, the plan task refuses them before any Azure call.
    params = {**{name: param.value for name, param in dag.params.items()}, **case.params}
    with pytest.raises(AirflowFailException) as refused:
        run_inputs(load_spec(SPECS / DEMO), params)
    assert case.names_field(str(refused.value)), str(refused.value)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "connection"], ids=lambda c: c.id)
def test_an_account_key_connection_is_refused_for_gallery_pools(case: BadInput, tmp_path, monkeypatch, entra_default):
    from airflow.sdk.exceptions import AirflowFailException

    from imagepool.pipeline import run_inputs

    for conn_id, account in case.shared_key.items():
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}",
            json.dumps(shared_key_connection(account, f"https://{account}.westeurope.batch.azure.com")),
        )
    spec_path = demo_copy(tmp_path)
    case.apply(spec_path)
    spec = load_spec(spec_path)

    with pytest.raises(AirflowFailException) as refused:
        run_inputs(spec, {})
    assert case.names_field(str(refused.value)), str(refused.value)
    # A run that leaves the pools alone may use the key: it only reads the account.
    assert run_inputs(spec, {"skip_pools": True}).skip_pools
