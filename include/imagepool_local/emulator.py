"""Start and stop the emulator as its own process, the way every client sees it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

INCLUDE = Path(__file__).resolve().parents[1]


@dataclass
class RunningEmulator:
    process: subprocess.Popen
    data_dir: Path
    ready_file: Path
    info: dict
    log_path: Path
    detached: bool = False

    def stop(self) -> None:
        """SIGTERM, then wait; kill only if it does not exit (state is committed as it goes)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        """Stop, then start again on the same data dir and port, as after a crash or an upgrade: clients keep
        their endpoints, credentials and CA, and operations in flight carry on. ``info`` is updated in place
        (only the PID changes), so whoever holds it sees the new process.
        """
        self.stop()
        again = start_emulator(self.data_dir, speed=self.info["speed"], port=self.info["port"], detach=self.detached)
        self.process = again.process
        self.info.update(again.info)


def start_emulator(
    data_dir: Path, *, speed: float, port: int = 0, timeout: float = 60, detach: bool = False, cloud: str | None = None
) -> RunningEmulator:
    """Start the emulator and wait for its ready file. ``detach`` starts it in its own session, so it
    outlives the caller and its terminal (a background stack that ``make down`` stops by PID). ``cloud``
    is the Azure cloud it plays (``--cloud``; default: the data dir's).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / "ready.json"
    if ready.exists():
        ready.unlink()
    log_path = data_dir / "emulator.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(INCLUDE), os.environ.get("PYTHONPATH")])))
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "azure_emulator",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                "--speed",
                str(speed),
                "--ready-file",
                str(ready),
                *(["--cloud", cloud] if cloud else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=detach,
        )
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode}: {log_path.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"emulator not ready after {timeout}s: {log_path.read_text()[-3000:]}")
        time.sleep(0.05)
    return RunningEmulator(process, data_dir, ready, json.loads(ready.read_text()), log_path, detach)


# Azure-sized polling intervals and retry delay (seconds), the ``[imagepool]`` defaults; the emulator's
# clock runs faster.
POLL_INTERVAL, MAX_POLL_INTERVAL, RETRY_DELAY = 15.0, 120.0, 60.0


def polling_settings(speed: float) -> dict[str, str]:
    """Airflow's ``[imagepool]`` polling intervals, retry delay and time-limit scale (as environment
    variables) for a clock ``speed`` times faster: a build that never finishes times out in emulated time,
    not in real time, and a failed task tries again after an emulated minute (Airflow waits 1 s at least).
    """
    return {
        "AIRFLOW__IMAGEPOOL__POLL_INTERVAL": str(round(POLL_INTERVAL / speed, 3)),
        "AIRFLOW__IMAGEPOOL__MAX_POLL_INTERVAL": str(round(MAX_POLL_INTERVAL / speed, 3)),
        "AIRFLOW__IMAGEPOOL__RETRY_DELAY": str(round(RETRY_DELAY / speed, 3)),
        "AIRFLOW__IMAGEPOOL__TIMEOUT_SCALE": str(1 / speed),
    }


def airflow_connection(info: dict) -> dict:
    """The ``azure`` connection a user would define for this cloud: a custom cloud with the emulator's CA."""
    return {
        "conn_type": "azure",
        "login": info["client_id"],
        "password": info["client_secret"],
        "extra": {
            "tenantId": info["tenant_id"],
            "subscriptionId": info["subscription_id"],
            "resource_group": info["resource_group"],
            "cloud_environment": "Custom",
            "arm_endpoint": info["arm_endpoint"],
            "arm_scope": info["arm_scope"],
            "authority_host": info["authority_host"],
            "batch_account_url": info["batch_endpoint"],
            "batch_endpoint_template": info["batch_endpoint"].rsplit("/", 1)[0] + "/{account}",
            "batch_scope": info["batch_scope"],
            "ca_bundle": info["ca_bundle"],
        },
    }
