"""The nightly path, with nobody triggering anything: on a stack whose scheduler starts scheduled runs, a
spec's cron fires during the test, the scheduler starts the run and it completes; a scheduled run that
fails mails the addresses the spec names (a real SMTP server on loopback receives it).

The demo stack (``make up``, the other tests here) keeps schedules off; this one has its own stack, with
only this spec's DAG, whose cron fires every three minutes.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import yaml

from imagepool_local.stack import down, up
from tests.e2e.conftest import RUN_TIMEOUT, TEST_TIMEOUT, run_to_end
from tests.integration import clients
from tests.mailbox import Mailbox

pytestmark = pytest.mark.timeout(TEST_TIMEOUT + 900)

ROOT = Path(__file__).resolve().parents[2]
FAMILY = "nightly-batch"
DAG_ID = "imagepool_nightly_batch"
CRON = "*/3 * * * *"
TO = "platform-team@example.com"
SPEED = 60.0
# Replication and the build take 40 and 15 emulated minutes by default; nothing here is about their length.
DURATIONS = {"replication_per_region": 120, "build_linux": 120}
DAG_FILE = '''"""Airflow DAG: the imagepool pipeline of the nightly test's spec."""
from imagepool.pipeline import pipeline_dag

dag = pipeline_dag({spec!r})
'''


def nightly_spec(specs: Path) -> Path:
    """The demo spec as a nightly family of its own: its cron, one small pool, and whom to mail."""
    spec = yaml.safe_load((ROOT / "include" / "specs" / "ubuntu-batch.yaml").read_text())
    spec.update(name=FAMILY, schedule=CRON, notify={"email": [TO]})
    spec["gallery"]["image_definition"] = FAMILY
    spec["batch"]["pools"] = [dict(spec["batch"]["pools"][0], id_prefix="nightly-we", dedicated_nodes=2, spot_nodes=0)]
    shutil.copytree(ROOT / "include" / "specs" / "scripts", specs / "scripts")
    path = specs / f"{FAMILY}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def nightly(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    specs, dags = root / "specs", root / "dags"
    specs.mkdir()
    dags.mkdir()
    (dags / "nightly_batch.py").write_text(DAG_FILE.format(spec=str(nightly_spec(specs))))
    with Mailbox() as mailbox, pytest.MonkeyPatch.context() as patch:
        patch.delenv("AIRFLOW__CORE__UNIT_TEST_MODE", raising=False)
        patch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(mailbox.connection()))
        patch.setenv("IMAGEPOOL_SPECS_DIR", str(specs))
        try:
            stack = up(root / "stack", speed=SPEED, port=0, dags_folder=dags, schedules=True)
            info = stack.emulator
            requests.patch(
                f"{info['control_endpoint']}/durations", json=DURATIONS, verify=info["ca_bundle"], timeout=30
            ).raise_for_status()
            yield stack, mailbox
        finally:
            down(root / "stack")


def next_scheduled_run(api, seen: set[str], timeout: float) -> dict:
    """The first scheduled run of the DAG not in ``seen``, once the scheduler has started it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.get(f"/dags/{DAG_ID}/dagRuns", params={"order_by": "run_after", "limit": 50}).json()["dag_runs"]
        new = [r for r in runs if r["dag_run_id"] not in seen]
        if new:
            return new[0]
        time.sleep(2)
    pytest.fail(f"the scheduler started no run of {DAG_ID} within {timeout:.0f} s")


def test_the_scheduler_runs_the_cron_and_a_failed_scheduled_run_is_mailed(nightly):
    stack, mailbox = nightly
    api = stack.api()
    info = stack.emulator
    control = clients.control_session(info)
    # Azure fails the first run's build VM: the run fails at image.create_build_vm with Azure's code.
    control.post(
        "/faults", json={"kind": "vm_provisioning_failed", "match": {"name": f"^ipb-{FAMILY}-"}}
    ).raise_for_status()

    api.patch(f"/dags/{DAG_ID}", json={"is_paused": False})
    switched_on = datetime.now(UTC)
    # Switched on, the DAG gets the run of its latest cron time at once (older ones are not caught up).
    first = next_scheduled_run(api, set(), timeout=120)
    assert first["run_type"] == "scheduled"
    assert run_to_end(api, DAG_ID, first["dag_run_id"])["state"] == "failed"

    mails = mailbox.wait_for(1, timeout=120)
    assert len(mails) == 1, [m.subject for m in mails]
    mail = mails[0]
    assert mail.recipients == [TO]
    assert mail.subject == f"[imagepool] {FAMILY} 1.0.0 failed: image.create_build_vm (OSProvisioningTimedOut)"
    body = mail.html
    assert "<th align='left' valign='top'>Azure error code</th><td>OSProvisioningTimedOut</td>" in body
    assert "delete it with the cleanup task" in body  # Azure left the VM Failed: the next step says what to do
    # The message links to the failed task in this Airflow.
    assert f"{stack.url}/dags/{DAG_ID}/runs/{quote(first['dag_run_id'])}/tasks/image.create_build_vm" in body

    # The next run is the cron's own, firing during the test; Azure behaves again and the run completes.
    control.delete("/faults").raise_for_status()
    second = next_scheduled_run(api, {first["dag_run_id"]}, timeout=3 * 60 + 120)
    fired = datetime.fromisoformat(second["run_after"])
    assert second["run_type"] == "scheduled"
    assert fired > switched_on
    assert (fired.minute % 3, fired.second, fired.microsecond) == (0, 0, 0), fired
    assert run_to_end(api, DAG_ID, second["dag_run_id"], RUN_TIMEOUT)["state"] == "success"
    api.patch(f"/dags/{DAG_ID}", json={"is_paused": True})

    plan = api.get(f"/dags/{DAG_ID}/dagRuns/{second['dag_run_id']}/taskInstances/plan/xcomEntries/version").json()[
        "value"
    ]
    # 1.0.0 was the failed run's number, and a version number is never used twice.
    assert plan == "1.0.1"
    resources = control.get("/resources").json()["value"]
    versions = [r["id"] for r in resources if r["kind"] == "arm/galleryImageVersions"]
    assert [re.sub(r".*/images/", "", v) for v in versions] == [f"{FAMILY}/versions/1.0.1"]
    # Only the failed run told anyone.
    assert len(mailbox.received) == 1
