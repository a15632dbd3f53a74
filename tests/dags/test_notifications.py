"""A run that fails, or ends degraded, mails the addresses in the spec's ``notify`` through a real SMTP server
(aiosmtpd on loopback), naming the family, the version, the task, Azure's error code and the next step; the
failed task's reason is recorded for the imagepool view.
"""

from __future__ import annotations

import json

import pytest

from imagepool.notifications import FAILURE_KEY
from tests.mailbox import Mailbox

WE = "imagepoolbatch"
STEADY = "region_westeurope.pool_render-we.steady"
TO = "platform-team@example.com"


@pytest.fixture
def mailbox(monkeypatch):
    with Mailbox() as box:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(box.connection()))
        yield box


def recorded_failure(run_id: str, task_id: str) -> dict | None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalars(
            select(XComModel).where(
                XComModel.run_id == run_id, XComModel.task_id == task_id, XComModel.key == FAILURE_KEY
            )
        ).one_or_none()
        return XComModel.deserialize_value(found) if found else None


def test_a_failed_run_mails_the_family_version_task_azure_code_and_next_step(pipeline, mailbox):
    pipeline.edit_spec(lambda spec: spec.update(notify={"email": [TO]}))
    # Room for two of the pool's four dedicated Standard_D2s_v3 nodes (2 cores each): the pool fails at once.
    pipeline.cloud.fault({"kind": "core_quota", "dedicated_cores": 4, "match": {"account": f"^{WE}$"}})

    run = pipeline.run()

    assert run.state == "failed"
    assert run.failed_tasks() == [STEADY]
    mails = mailbox.received
    assert len(mails) == 1, [m.subject for m in mails]
    mail = mails[0]
    assert mail.recipients == [TO]
    assert mail.subject == f"[imagepool] ubuntu-batch 1.0.0 failed: {STEADY} (AccountCoreQuotaReached)"
    body = mail.html
    for expected in (
        "<th align='left' valign='top'>Image family</th><td>ubuntu-batch</td>",
        "<th align='left' valign='top'>Version</th><td>1.0.0</td>",
        f"<th align='left' valign='top'>Failed task</th><td>{STEADY}</td>",
        "<th align='left' valign='top'>Azure error code</th><td>AccountCoreQuotaReached</td>",
        "request more dedicated cores for the Batch account (Azure portal &gt; Batch account &gt; Quotas)",
        f"imagepool_ubuntu_batch / {run.run_id}",
    ):
        assert expected in body, body

    # The reason is kept with the run, for the imagepool view.
    failure = recorded_failure(run.run_id, STEADY)
    assert failure is not None
    assert failure["code"] == "AccountCoreQuotaReached"
    assert failure["next_step"].startswith("request more dedicated cores")


def test_a_degraded_pool_mails_naming_the_failed_node_and_a_healthy_pool_tells_nobody(pipeline, mailbox):
    pipeline.edit_spec(
        lambda spec: (
            spec.update(notify={"email": [TO]}),
            spec["batch"]["pools"][0].update(required_healthy_fraction=0.8),
        )
    )
    # One of render-we's six nodes fails its start task: tolerated at 80 %, so the run completes degraded.
    pipeline.cloud.fault(
        {"kind": "start_task_failed", "fraction": 1.1 / 6, "match": {"account": f"^{WE}$", "pool": "^render-we"}}
    )

    run = pipeline.run()

    assert run.state == "success", run.failed_tasks()
    # render-ne (in the other region) is healthy: only render-we's wait tells.
    mails = mailbox.received
    assert len(mails) == 1, [m.subject for m in mails]
    assert mails[0].subject == f"[imagepool] ubuntu-batch 1.0.0 ended degraded: {STEADY} (FailureExitCode)"
    assert "1 of 6 nodes are not idle or running (node " in mails[0].html
    assert "start task exited with 1" in mails[0].html
