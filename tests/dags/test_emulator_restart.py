"""The local Azure cloud restarted in the middle of a pipeline run, while the build VM runs its script:
the build wait rides out the downtime, the emulator carries the build on from its data dir, and the run
completes without a retry, having made everything once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.dags.test_pipeline_runs import vm_puts
from tests.integration import clients

# Emulated seconds: 12 s real, longer than a stop and a start, so the build is still going after both; the
# spec's build limit is raised to match.
BUILD_SECONDS = 7200
BUILD_LIMIT_MINUTES = 1440
BUILT = "image.create_build_vm"
# Real seconds to wait for the build VM task to finish.
BUILD_VM_WITHIN = 300


@dataclass
class Restart:
    """What the restart found: the emulator's PID and the build's power state on either side of it."""

    pid_before: int
    power_before: str
    power_after: str
    seconds: float


def build_vm_done_since(since: datetime) -> bool:
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return (
            session.scalar(
                select(TaskInstance.state).where(TaskInstance.task_id == BUILT, TaskInstance.end_date >= since).limit(1)
            )
            == "success"
        )


def power_state(cloud, vm_name: str) -> str:
    with clients.compute(cloud.info, cloud.credential) as compute:
        view = compute.virtual_machines.instance_view(cloud.info["resource_group"], vm_name)
    return next(s.code for s in view.statuses if s.code.startswith("PowerState/"))


class RestartOnceBuilding(threading.Thread):
    """Restarts the emulator once this run's build VM exists and only the build wait talks to Azure."""

    def __init__(self, emulator, cloud):
        super().__init__(daemon=True)
        self.emulator, self.cloud = emulator, cloud
        self.since = datetime.now(UTC)
        self.done: Restart | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            deadline = time.monotonic() + BUILD_VM_WITHIN
            while not build_vm_done_since(self.since):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{BUILT} did not finish within {BUILD_VM_WITHIN} s")
                time.sleep(0.1)
            [vm_name] = self.cloud.names("arm/virtualMachines")
            pid, before = self.emulator.process.pid, power_state(self.cloud, vm_name)
            began = time.monotonic()
            self.emulator.restart()
            self.done = Restart(pid, before, power_state(self.cloud, vm_name), time.monotonic() - began)
        except BaseException as exc:  # reported by the test, which runs the DAG in the main thread
            self.error = exc


def test_an_emulator_restart_during_the_build_costs_the_run_nothing(pipeline, emulator):
    cloud = pipeline.cloud
    cloud.control.patch("/durations", json={"build_linux": BUILD_SECONDS}).raise_for_status()
    pipeline.edit_spec(lambda spec: spec["build"].update(timeout_minutes=BUILD_LIMIT_MINUTES))
    port, ca_bundle = emulator.info["port"], emulator.info["ca_bundle"]
    ca = Path(ca_bundle).read_bytes()
    restart = RestartOnceBuilding(emulator, cloud)
    restart.start()

    run = pipeline.run()

    restart.join(timeout=60)
    assert restart.error is None, f"the restart failed: {restart.error!r}"
    assert restart.done, "the run ended before its build VM was made"
    # The emulator was restarted while the build script ran, and carried it on from its data dir.
    assert restart.done.power_before == restart.done.power_after == "PowerState/running", restart.done
    assert run.state == "success", run.failed_tasks()
    # The waits rode out the downtime: no task failed and was retried.
    assert {task: tries for task, tries in run.tries.items() if tries > 1} == {}
    assert len(vm_puts(run)) == 1
    cloud.assert_nothing_leaked(
        versions=["1.0.0"], pools={"imagepoolbatch": ["render-we-1-0-0"], "imagepoolbatchne": ["render-ne-1-0-0"]}
    )
    # The session's emulator is the new process, where the tests after this one expect it.
    info = emulator.info
    assert info["pid"] == emulator.process.pid != restart.done.pid_before
    assert emulator.process.poll() is None
    assert (info["port"], info["ca_bundle"], Path(ca_bundle).read_bytes()) == (port, ca_bundle, ca)
    assert emulator.ready_file.exists()
