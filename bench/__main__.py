"""``make bench``: imagepool against the emulated critical path and against the sequential SDK script.

In order, on one emulator (reset, with every duration pinned, before each measurement) and one
Airflow stack (``make up``'s: scheduler, triggerer, LocalExecutor with a few worker slots):

1. one pipeline alone: its wall time, requests and timeline; the critical path of its DAG;
2. scale, on what that run left: the pool sensor's poll at 50 and 5000 nodes, the replication
   sensor's at 3 and 10 regions, the triggerer's memory with 100 waits;
3. the baseline script (bench/baseline.py) on the same spec: its wall time and requests;
4. ten pipelines of different image families at once.

Writes bench/results/latest.json, latest.md and timeline.png, and the summary into README.md's
Performance section. State and logs stay in var/bench.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import report, scale, stack_runs
from bench.control import Control, tally
from bench.critical_path import dag_critical_path, realized
from bench.families import write_families
from bench.settings import DURATIONS, FAMILIES, PARALLELISM, RESULTS, ROOT, SPEC, SPEED
from imagepool_local.stack import down

DATA = ROOT / "var" / "bench"


def main() -> int:
    began = time.monotonic()
    load_before = os.getloadavg()
    down(DATA / "stack")  # a stack an interrupted bench left running
    shutil.rmtree(DATA, ignore_errors=True)
    specs = write_families(SPEC, DATA / "families", FAMILIES)
    print(f"starting Airflow and the local Azure cloud (x{SPEED:g}) in {DATA} ...", flush=True)
    stack = stack_runs.start(DATA / "stack", DATA / "families")
    # Airflow's logging, now set up in this process, would show every SDK request the bench makes.
    logging.getLogger("azure").setLevel(logging.WARNING)
    try:
        from imagepool.pipeline import pipeline_dag
        from imagepool.spec import load_spec

        control = Control(stack.emulator)
        single_spec = load_spec(specs[0])
        critical = dag_critical_path(pipeline_dag(specs[0]), single_spec, DURATIONS, SPEED)
        print(
            f"critical path: {critical['emulated_s']:.0f} s of Azure time, {critical['real_s']:.1f} s real", flush=True
        )

        print("1/4 one pipeline alone ...", flush=True)
        control.prepare()
        mark = control.mark()
        single = stack_runs.run(stack, [single_spec.dag_id])
        requests_dag = tally(control.azure_requests(mark))
        print(f"    {single.wall_s:.1f} s, {requests_dag['requests']} requests", flush=True)

        print("2/4 scale ...", flush=True)
        scaled = scale.measure(control, single_spec, single.plans[single_spec.dag_id])

        print("3/4 the baseline script ...", flush=True)
        control.prepare()
        mark = control.mark()
        baseline = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "baseline.py"),
                    "--ready-file",
                    str(stack.dirs.emulator / "ready.json"),
                    "--spec",
                    str(specs[0]),
                    "--speed",
                    str(SPEED),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        requests_baseline = tally(control.azure_requests(mark))
        print(f"    {baseline['wall_s']:.1f} s, {requests_baseline['requests']} requests", flush=True)

        print(f"4/4 {FAMILIES} pipelines at once ...", flush=True)
        control.prepare()
        concurrent = stack_runs.run(stack, [load_spec(path).dag_id for path in specs])
        print(f"    {concurrent.wall_s:.1f} s", flush=True)
    finally:
        down(DATA / "stack")

    started = min(r["queued_at"] for r in single.runs)
    timeline = [
        {
            "task_id": t["task_id"],
            "map_index": t["map_index"],
            "try_number": t["try_number"],
            "start": round(t["start"] - started, 2),
            "end": round(t["end"] - started, 2),
        }
        for t in single.tasks
        if t["start"] and t["end"]
    ]
    critical["realized"] = realized(critical["tasks"], timeline, SPEED)
    without_retries = (single.wall_s - single.retries["waiting_s"]) / critical["real_s"]
    values = {
        "overhead_ratio": single.wall_s / critical["real_s"],
        "speedup_vs_baseline": baseline["wall_s"] / single.wall_s,
        "requests_dag / requests_baseline": requests_dag["requests"] / requests_baseline["requests"],
        "concurrency_ratio": concurrent.wall_s / single.wall_s,
    }
    results = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": [round(x, 1) for x in load_before],
            "load_after": [round(x, 1) for x in os.getloadavg()],
        },
        "settings": {
            "speed": SPEED,
            "durations": DURATIONS,
            "spec": str(SPEC.relative_to(ROOT)),
            "spec_summary": f"{len(single_spec.build.data_disks)} data disks, "
            f"{len(single_spec.target_regions)} target regions, "
            f"{len(single_spec.batch.pools)} pools",
            "families": FAMILIES,
            "parallelism": PARALLELISM,
        },
        "bench_wall_s": round(time.monotonic() - began, 1),
        "critical_path_s": critical["real_s"],
        "critical_path": critical,
        "dag_wall_s": single.wall_s,
        "overhead_ratio": round(values["overhead_ratio"], 3),
        "overhead_ratio_without_retry_waits": round(without_retries, 3),
        "baseline_wall_s": float(baseline["wall_s"]),
        "speedup_vs_baseline": round(values["speedup_vs_baseline"], 3),
        "requests_dag": requests_dag["requests"],
        "requests_baseline": requests_baseline["requests"],
        "requests_detail": {"pipeline": requests_dag, "baseline": requests_baseline},
        "single_wall_s": single.wall_s,
        "concurrent_wall_s": concurrent.wall_s,
        "concurrency_ratio": round(values["concurrency_ratio"], 3),
        "worker_slot_s": {"single": single.slot_s, "concurrent": concurrent.slot_s},
        "retries": {"single": single.retries, "concurrent": concurrent.retries},
        "scale": scaled,
        "targets": report.targets(values),
        "timeline": {"dag": timeline, "baseline": baseline["steps"]},
    }
    report.write(results, RESULTS)
    report.update_readme(results, ROOT / "README.md")
    print((RESULTS / "latest.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
