"""The notify section's rules, and the message: a failure's Azure code and next step read from imagepool's
failure messages, and what the message says.
"""

from __future__ import annotations

import pytest
import yaml

from imagepool.notifications import NO_CODE, READ_THE_LOG, Failure, compose
from imagepool.spec import SpecError, parse_spec
from tests.conftest import ROOT

DEMO = yaml.safe_load((ROOT / "include" / "specs" / "ubuntu-batch.yaml").read_text())


def spec_with(notify):
    return parse_spec({**DEMO, "notify": notify})


def test_email_alone_tells_about_failed_and_degraded_runs_through_smtp_default():
    notify = spec_with({"email": ["platform-team@example.com"]}).notify
    assert notify.smtp_conn_id == "smtp_default"
    assert notify.wants("failed")
    assert notify.wants("degraded")
    assert spec_with({"email": ["a@example.com"], "when": ["failed"]}).notify.wants("degraded") is False


def test_a_spec_without_notify_tells_nobody():
    assert parse_spec(DEMO).notify is None


@pytest.mark.parametrize(
    ("notify", "problem"),
    [
        ({"email": ["platform-team"]}, "notify.email: 'platform-team' is not an e-mail address"),
        ({}, "notify: names no one to tell: give email (addresses), slack_conn_id or teams_conn_id"),
        ({"email": ["a@example.com"], "when": ["late"]}, "notify.when[0]: Input should be 'failed' or 'degraded'"),
        ({"email": ["a@example.com"], "slack": "x"}, "notify.slack: unknown key"),
        ({"slack_conn_id": "has space"}, "notify.slack_conn_id: String should match pattern"),
    ],
)
def test_bad_notify_sections_are_refused_naming_the_field(notify, problem):
    with pytest.raises(SpecError) as refused:
        spec_with(notify)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_a_failure_message_gives_its_azure_code_what_happened_and_the_next_step():
    failure = Failure.of(
        "region_westeurope.pool_render-we.steady",
        "pool render-we-1-0-0 in Batch account https://x/imagepoolbatch: Azure error AccountCoreQuotaReached: "
        "quota reached -> request more dedicated cores for the Batch account (Azure portal > Batch account > Quotas)",
    )
    assert failure.code == "AccountCoreQuotaReached"
    assert failure.detail.endswith("Azure error AccountCoreQuotaReached: quota reached")
    assert (
        failure.next_step
        == "request more dedicated cores for the Batch account (Azure portal > Batch account > Quotas)"
    )


def test_a_failure_that_is_not_azure_s_says_so_and_points_to_the_log():
    failure = Failure.of("plan", "invalid trigger parameters: force_rebuld: unknown parameter")
    assert (failure.code, failure.next_step) == (None, READ_THE_LOG)
    killed = Failure.of("image.wait_for_build", None)
    assert killed.detail.startswith("the task ended without an error message")


def test_the_message_names_family_version_task_code_and_next_step():
    failure = Failure("image.create_build_vm", "OSProvisioningTimedOut", "build VM ipb-x failed", "delete it")
    message = compose(
        "failed",
        family="ubuntu-batch",
        version="1.0.4",
        dag_id="imagepool_ubuntu_batch",
        run_id="scheduled__2026-12-03T02:00:00+00:00",
        failure=failure,
        run_url="http://airflow.example.com/dags/imagepool_ubuntu_batch/runs/r/tasks/image.create_build_vm",
    )
    assert message.subject == "[imagepool] ubuntu-batch 1.0.4 failed: image.create_build_vm (OSProvisioningTimedOut)"
    for line in (
        "Image family: ubuntu-batch",
        "Version: 1.0.4",
        "Failed task: image.create_build_vm",
        "Azure error code: OSProvisioningTimedOut",
        "Next step: delete it",
        "In Airflow: http://airflow.example.com/dags/imagepool_ubuntu_batch/runs/r/tasks/image.create_build_vm",
    ):
        assert line in message.text.splitlines()
    assert "<a href='http://airflow.example.com/dags/" in message.html
    unplanned = compose(
        "degraded",
        family="f",
        version=None,
        dag_id="d",
        run_id="r",
        failure=Failure("plan", None, "x", READ_THE_LOG),
        run_url=None,
    )
    assert unplanned.subject == "[imagepool] f ended degraded: plan (no Azure code)"
    assert f"Azure error code: {NO_CODE}" in unplanned.text
    assert "Version: not decided (the run failed before its plan)" in unplanned.text
