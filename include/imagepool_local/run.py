"""``make run``: one pipeline end to end on this machine, against the local Azure cloud.

Starts the emulator on a data dir kept under the repository (so the next run continues from it and
shows the no-change path), points Airflow's ``azure_default`` connection at it, runs the spec's DAG
with ``airflow dags test``, prints a summary a person can read, stops the emulator and exits non-zero
if the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from imagepool_local.emulator import airflow_connection, polling_settings, start_emulator
from imagepool_local.summary import summarize

ROOT = Path(__file__).resolve().parents[2]


def airflow_env(home: Path, info: dict, speed: float) -> dict[str, str]:
    """Airflow's settings for a local run: the project's DAGs and plugins, the emulator's connection, and
    polling scaled to the emulator's clock (Azure-sized intervals divided by its speed).
    """
    return dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        **polling_settings(speed),
        AIRFLOW_CONN_AZURE_DEFAULT=json.dumps(airflow_connection(info)),
        PYTHONPATH=os.pathsep.join([str(ROOT / "plugins"), str(ROOT / "include")]),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagepool_local", description=__doc__)
    parser.add_argument("--spec", default="ubuntu-batch.yaml", help="spec file in include/specs/")
    parser.add_argument(
        "--data-dir", type=Path, default=ROOT / "var" / "run", help="emulator state and Airflow home; kept between runs"
    )
    parser.add_argument("--speed", type=float, default=120.0, help="emulated time runs this many times faster")
    parser.add_argument("--conf", default="{}", help="the run's parameters (JSON), as the trigger form sets them")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "plugins"))
    from imagepool.spec import load_spec

    spec = load_spec(ROOT / "include" / "specs" / args.spec)
    data_dir = args.data_dir.resolve()
    emulator = start_emulator(data_dir / "emulator", speed=args.speed)
    print(f"local Azure cloud: {emulator.info['arm_endpoint']} (speed x{args.speed:g}, state in {emulator.data_dir})")
    try:
        env = airflow_env(data_dir / "airflow", emulator.info, args.speed)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        log_path = data_dir / "dags-test.log"
        print(f"running {spec.dag_id} with airflow dags test (log: {log_path}) ...", flush=True)
        started = time.monotonic()
        with open(log_path, "w") as log:
            result = subprocess.run(
                [sys.executable, "-m", "airflow", "dags", "test", spec.dag_id, "--conf", args.conf],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        wall = time.monotonic() - started
        report = summarize(spec, env, emulator.info, wall_seconds=wall)
        print(report.text)
        if result.returncode != 0 or not report.succeeded:
            print(f"\nthe run failed; the last lines of {log_path}:\n" + "".join(log_path.open().readlines()[-40:]))
            return 1
        print(f"\nstate kept in {data_dir}: run `make run` again to see the no-change path")
        return 0
    finally:
        emulator.stop()


if __name__ == "__main__":
    raise SystemExit(main())
