"""Fixtures for the pipeline's own tests: the project's DAG files parsed offline, and a pipeline's DAG run
end to end in this process (Airflow's ``dag.test()``) against the local Azure cloud.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagepool_local.emulator import airflow_connection, polling_settings, start_emulator
from tests.integration import clients

ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = ROOT / "dags"
SPECS_DIR = ROOT / "include" / "specs"
DEMO_SPEC = "ubuntu-batch.yaml"

# Emulated time runs this many times faster than real time; waits poll and time out to match.
SPEED = 600.0
# The two emulated durations that would still cost real seconds per run at that speed (replicating
# a version to a region takes 40 emulated minutes, a Linux build 15), shortened because no test
# here is about their length.
SHORT_DURATIONS = {"replication_per_region": 120, "build_linux": 120}

# A DAG file as a user writes one: the pipeline of one spec file. Airflow's parser skips files that
# do not mention both "airflow" and "dag", hence the docstring.
DAG_FILE = '''"""Airflow DAG: the imagepool pipeline of {spec}."""
from imagepool.pipeline import pipeline_dag

dag = pipeline_dag({spec!r})
'''


# --- the DAG files, parsed the way the DAG processor parses them ------------------------------------
@dataclass
class ParsedDags:
    bag: Any
    connect_attempts: list = field(default_factory=list)


@pytest.fixture(scope="session")
def parsed_dags() -> ParsedDags:
    """``dags/`` parsed with no Azure connection defined and every outgoing connection refused (and
    recorded): parsing runs in the scheduler's DAG processor every few seconds and must not call out.
    """
    from airflow.dag_processing.dagbag import DagBag

    parsed = ParsedDags(bag=None)

    def refuse(sock, address):
        parsed.connect_attempts.append(address)
        raise ConnectionRefusedError(f"no network while parsing DAG files (tried {address})")

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AIRFLOW_CONN_AZURE_DEFAULT", raising=False)
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        parsed.bag = DagBag(dag_folder=DAGS_DIR)
    return parsed


# --- the local Azure cloud --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    running = start_emulator(tmp_path_factory.mktemp("emulator"), speed=SPEED)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def info(emulator) -> dict:
    return emulator.info


@pytest.fixture(scope="session")
def control(info):
    return clients.control_session(info)


@pytest.fixture(scope="session")
def credential(info):
    return clients.credential(info)


@pytest.fixture
def cloud(info, control, credential) -> Cloud:
    """A new, empty subscription (the emulator reset) with the shortened durations."""
    control.post("/reset").raise_for_status()
    control.patch("/durations", json=SHORT_DURATIONS).raise_for_status()
    return Cloud(info, control, credential)


@dataclass
class Cloud:
    """What Azure holds, read independently of the pipeline's hooks."""

    info: dict
    control: Any
    credential: Any

    def resources(self, *kinds: str) -> list[dict]:
        found = self.control.get("/resources").json()["value"]
        return [r for r in found if not kinds or r["kind"] in kinds]

    def names(self, kind: str) -> list[str]:
        return sorted(r["id"].rsplit("/", 1)[-1] for r in self.resources(kind))

    def build_resources(self) -> list[dict]:
        return self.resources(
            "arm/virtualMachines",
            "arm/disks",
            "arm/networkInterfaces",
            "arm/snapshots",
            "arm/images",
            "arm/publicIPAddresses",
        )

    def last_request_id(self) -> int:
        return self.control.get("/requests", params={"since": 2**62}).json()["summary"]["last_id"]

    def requests_since(self, request_id: int) -> list[dict]:
        return self.control.get("/requests", params={"since": request_id}).json()["value"]

    def fault(self, rule: dict) -> None:
        self.control.post("/faults", json=rule).raise_for_status()

    def batch(self, account: str):
        """A Batch client for one of the emulator's accounts (by name)."""
        endpoint = next(a["endpoint"] for a in self.info["batch_accounts"] if a["name"] == account)
        return clients.batch(self.info, self.credential, endpoint=endpoint)

    def pools(self) -> dict[str, list[str]]:
        """Every Batch account's pool ids (accounts without pools left out)."""
        found = {}
        for account in self.info["batch_accounts"]:
            with self.batch(account["name"]) as batch:
                ids = sorted(pool.id for pool in batch.list_pools())
            if ids:
                found[account["name"]] = ids
        return found

    def active_jobs(self) -> dict[str, list[str]]:
        """Every Batch account's jobs that are not being deleted (a smoke job left behind shows here)."""
        found = {}
        for account in self.info["batch_accounts"]:
            with self.batch(account["name"]) as batch:
                ids = sorted(job.id for job in batch.list_jobs() if job.state != "deleting")
            if ids:
                found[account["name"]] = ids
        return found

    def assert_nothing_leaked(self, *, versions: list[str], pools: dict[str, list[str]]) -> None:
        """After a run, Azure holds exactly these image versions and pools, no build resources and no
        smoke jobs: a step that was retried or repaired made nothing twice and left nothing behind.
        """
        assert self.build_resources() == []
        assert self.names("arm/galleryImageVersions") == sorted(versions)
        assert self.pools() == {account: sorted(ids) for account, ids in pools.items() if ids}
        assert self.active_jobs() == {}


# --- a pipeline run -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def airflow_db():
    """The metadata database in this test process's Airflow home (``dag.test()`` records runs there)."""
    from airflow.utils import db

    db.initdb()


@dataclass
class PipelineRun:
    run_id: str
    state: str
    tasks: dict[str, str]  # task id ("[i]" appended for mapped tasks) -> state
    tries: dict[str, int]  # task id -> how many times it ran
    plan: dict
    requests: list[dict]  # what the emulator answered during the run
    output: str  # what the run logged
    asset_events: dict[str, list[dict]]  # asset name -> the run's events' extras

    def failed_tasks(self) -> list[str]:
        return sorted(t for t, state in self.tasks.items() if state == "failed")


@dataclass
class Pipeline:
    """The demo spec copied to a temporary directory, with a DAG file for it and the Airflow settings a
    local run uses; ``run()`` runs its DAG once, as Airflow's ``dags test`` does.
    """

    spec_path: Path
    cloud: Cloud
    capture: Any

    def spec(self) -> dict:
        return yaml.safe_load(self.spec_path.read_text())

    def edit_spec(self, change: Callable[[dict], None]) -> None:
        data = self.spec()
        change(data)
        self.spec_path.write_text(yaml.safe_dump(data, sort_keys=False))

    def edit_script(self, old: str, new: str) -> None:
        script = self.spec_path.parent / self.spec()["build"]["script"]
        text = script.read_text()
        assert old in text
        script.write_text(text.replace(old, new))

    def run(self, **conf) -> PipelineRun:
        from imagepool.pipeline import pipeline_dag

        first_request = self.cloud.last_request_id()
        self.capture.readouterr()
        dag = pipeline_dag(self.spec_path)
        dagrun = dag.test(run_conf=conf or None)
        output = self.capture.readouterr()
        return _recorded(dag.dag_id, dagrun.run_id, self.cloud.requests_since(first_request), output.out + output.err)


def _recorded(dag_id: str, run_id: str, requests: list[dict], output: str) -> PipelineRun:
    from airflow.models import DagRun, TaskInstance
    from airflow.models.asset import AssetEvent
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one()
        instances = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
        keys = {ti: ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "") for ti in instances}
        tasks = {key: str(ti.state) for ti, key in keys.items()}
        tries = {key: ti.try_number for ti, key in keys.items()}
        plan = {
            x.key: XComModel.deserialize_value(x)
            for x in session.scalars(
                select(XComModel).where(
                    XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.task_id == "plan"
                )
            )
        }
        events: dict[str, list[dict]] = {}
        for event in session.scalars(
            select(AssetEvent).where(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
        ):
            events.setdefault(event.asset.name, []).append(dict(event.extra or {}))
        return PipelineRun(run_id, str(run.state), tasks, tries, plan, requests, output, events)


@pytest.fixture
def pipeline(tmp_path, cloud, airflow_db, monkeypatch, capfd) -> Pipeline:
    specs = shutil.copytree(SPECS_DIR, tmp_path / "specs")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "pipeline.py").write_text(DAG_FILE.format(spec=str(specs / DEMO_SPEC)))
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_DEFAULT", json.dumps(airflow_connection(cloud.info)))
    for name, value in polling_settings(SPEED).items():
        monkeypatch.setenv(name, value)
    # dag.test() records the DAG as its bundle (the DAGs folder) defines it: the folder holding this copy.
    monkeypatch.setenv(
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
        json.dumps(
            [
                {
                    "name": "dags-folder",
                    "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                    "kwargs": {"path": str(dags)},
                }
            ]
        ),
    )
    return Pipeline(specs / DEMO_SPEC, cloud, capfd)
