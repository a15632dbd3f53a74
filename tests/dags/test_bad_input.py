"""The bad-input corpus against the pipeline as Airflow runs it: a broken spec or build script is an import
error naming the field (the DAG never appears, so it cannot be triggered); bad trigger parameters are
refused when the run is created (the trigger form's schema) or by the first task, the plan, which fails
at once without a retry. Either way Azure hears nothing: no request reaches the local cloud, not even
for a token, and nothing is created.
"""

from __future__ import annotations

import json

import pytest

from tests.corpus import CASES, BadInput, shared_key_connection


def dag_file_errors(pipeline) -> dict:
    """What Airflow's DAG processor makes of the pipeline's DAG folder: the DAGs and the import errors."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=pipeline.spec_path.parents[1] / "dags")
    return {"dags": sorted(bag.dag_ids), "errors": list(bag.import_errors.values())}


def to_azure(requests: list[dict]) -> list[dict]:
    """Requests to Azure's services (Entra ID included); the test's own look at the cloud left out."""
    return [r for r in requests if r["service"] != "control"]


def assert_azure_untouched(cloud, first_request: int, before: list[dict]) -> None:
    assert to_azure(cloud.requests_since(first_request)) == []
    assert cloud.resources() == before


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "spec"], ids=lambda c: c.id)
def test_a_broken_spec_is_an_import_error_naming_the_field(case: BadInput, pipeline):
    cloud = pipeline.cloud
    first_request, before = cloud.last_request_id(), cloud.resources()
    case.apply(pipeline.spec_path)

    parsed = dag_file_errors(pipeline)

    assert parsed["dags"] == []
    [error] = parsed["errors"]
    assert "SpecError" in error, error
    assert case.names_field(error), error
    assert_azure_untouched(cloud, first_request, before)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "params" and c.form], ids=lambda c: c.id)
def test_the_trigger_form_refuses_bad_params(case: BadInput, pipeline):
    from airflow.sdk.exceptions import ParamValidationError

    cloud = pipeline.cloud
    first_request, before = cloud.last_request_id(), cloud.resources()

    with pytest.raises(ParamValidationError, match=f"Invalid input for param {case.field.split('.')[0]}:"):
        pipeline.run(**case.params)

    assert_azure_untouched(cloud, first_request, before)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.kind == "connection" or (c.kind == "params" and not c.form)], ids=lambda c: c.id
)
def test_the_plan_refuses_what_the_form_lets_through(case: BadInput, pipeline, monkeypatch):
    cloud = pipeline.cloud
    for conn_id, account in case.shared_key.items():
        endpoint = next(a["endpoint"] for a in cloud.info["batch_accounts"] if a["name"] == account)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(shared_key_connection(account, endpoint)))
    case.apply(pipeline.spec_path)
    before = cloud.resources()

    run = pipeline.run(**(case.params or {}))

    assert run.state == "failed"
    assert run.failed_tasks() == ["plan"]
    # Input a retry cannot mend fails at once.
    assert run.tries["plan"] == 1
    assert case.names_field(run.output), run.output[-3000:]
    assert to_azure(run.requests) == []
    assert cloud.resources() == before
