"""The bench's results: the JSON document (its keys checked here), the table in Markdown, and the
timeline chart of the single pipeline run next to the baseline's steps.
"""

from __future__ import annotations

import json
from pathlib import Path

# Every key of the results and its type: the bench writes nothing else and leaves nothing out.
SCHEMA: dict[str, type | tuple[type, ...]] = {
    "generated": str,
    "machine": dict,
    "settings": dict,
    "bench_wall_s": float,
    "critical_path_s": float,
    "critical_path": dict,
    "dag_wall_s": float,
    "overhead_ratio": float,
    "overhead_ratio_without_retry_waits": float,
    "baseline_wall_s": float,
    "speedup_vs_baseline": float,
    "requests_dag": int,
    "requests_baseline": int,
    "requests_detail": dict,
    "single_wall_s": float,
    "concurrent_wall_s": float,
    "concurrency_ratio": float,
    "worker_slot_s": dict,
    "retries": dict,
    "scale": dict,
    "targets": dict,
    "timeline": dict,
}
# Goals the numbers are read against; reported, never asserted.
TARGETS = {
    "overhead_ratio": ("<=", 1.10),
    "speedup_vs_baseline": (">=", 1.5),
    "requests_dag / requests_baseline": ("<=", 1.0),
    "concurrency_ratio": ("<=", 1.3),
}


def problems(results: dict) -> list[str]:
    """What is wrong with a results document: missing or unexpected keys, values of the wrong type."""
    found = [f"missing key {k!r}" for k in SCHEMA if k not in results]
    found += [f"unexpected key {k!r}" for k in results if k not in SCHEMA]
    found += [
        f"{k!r} is {type(results[k]).__name__}, not {_names(t)}"
        for k, t in SCHEMA.items()
        if k in results and (not isinstance(results[k], t) or isinstance(results[k], bool))
    ]
    return found


def _names(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))


def targets(values: dict[str, float]) -> dict[str, dict]:
    """Each target with the value it is read against and whether it is met."""
    found = {}
    for name, (op, bound) in TARGETS.items():
        value = values[name]
        found[name] = {
            "value": round(value, 3),
            "target": f"{op} {bound:g}",
            "met": value <= bound if op == "<=" else value >= bound,
        }
    return found


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def write(results: dict, out_dir: Path) -> None:
    wrong = problems(results)
    if wrong:
        raise ValueError("the results do not match bench.report.SCHEMA: " + "; ".join(wrong))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "latest.md").write_text(markdown(results))
    chart(results, out_dir / "timeline.png")


def markdown(r: dict) -> str:
    return "\n".join([f"# imagepool bench, {r['generated']}", "", *summary(r), "", *details(r)])


def summary(r: dict) -> list[str]:
    """The run's settings and the table of the measures the targets are read against."""
    s, t = r["settings"], r["targets"]

    def target(name: str) -> str:
        return f"{t[name]['target']}: {'met' if t[name]['met'] else 'missed'}"

    slots, spent, retries = r["worker_slot_s"], r["critical_path"]["realized"], r["retries"]
    return [
        f"Spec `{s['spec']}` ({s['spec_summary']}); the emulator at {s['speed']:g}x with every duration pinned "
        f"(`bench/settings.py`). Machine: {r['machine']['cpus']} CPUs, load average {r['machine']['load_before']} "
        f"before and {r['machine']['load_after']} after; the bench took {r['bench_wall_s']:.0f} s.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| emulated critical path | {r['critical_path']['emulated_s']:.0f} s Azure = **{r['critical_path_s']:.1f} s** "
        "real | |",
        f"| pipeline wall time (scheduler + triggerer) | **{r['dag_wall_s']:.1f} s** | |",
        f"| overhead ratio (wall / critical path) | **{r['overhead_ratio']:.2f}** | {target('overhead_ratio')} |",
        f"| along the critical path: waiting for tasks to start / in tasks beyond Azure's time / Azure | "
        f"{spent['between_tasks_s']:.0f} / {spent['in_tasks_beyond_azure_s']:.0f} / {spent['azure_s']:.0f} s | |",
        f"| baseline wall time (sequential SDK script) | **{r['baseline_wall_s']:.1f} s** | |",
        f"| speedup vs baseline | **{r['speedup_vs_baseline']:.2f}** | {target('speedup_vs_baseline')} |",
        # A pipeline cannot end before its critical path: the baseline's time over it bounds any speedup.
        f"| best speedup any schedule reaches (baseline / critical path) | "
        f"{r['baseline_wall_s'] / r['critical_path_s']:.2f} | |",
        f"| ARM + Batch requests: pipeline / baseline | **{r['requests_dag']} / {r['requests_baseline']}** | "
        f"{target('requests_dag / requests_baseline')} |",
        f"| one pipeline alone / {s['families']} at once ({s['parallelism']} worker slots) | "
        f"**{r['single_wall_s']:.1f} s / {r['concurrent_wall_s']:.1f} s** (x{r['concurrency_ratio']:.2f}) | "
        f"{target('concurrency_ratio')} |",
        f"| worker-slot seconds, alone / {s['families']} at once | {slots['single']['running']:.0f} / "
        f"{slots['concurrent']['running']:.0f} s (waits in the triggerer, holding no slot: "
        f"{slots['single']['deferred']:.0f} / {slots['concurrent']['deferred']:.0f} s; waits for a free slot: "
        f"{slots['single']['waiting_for_slot']:.0f} / {slots['concurrent']['waiting_for_slot']:.0f} s) | |",
        f"| failed tries retried, alone / {s['families']} at once (time a task waited for its retry) | "
        f"{retries['single']['tries']} / {retries['concurrent']['tries']} ({retries['single']['waiting_s']:.0f} / "
        f"{retries['concurrent']['waiting_s']:.0f} s) | |",
        f"| overhead ratio without the time waiting for retries | {r['overhead_ratio_without_retry_waits']:.2f} | |",
    ]


def details(r: dict) -> list[str]:
    """Requests by service, the scale figures and the critical path's steps, then the timeline."""
    lines = [
        "Requests per run, by service (bytes of the answers):",
        "",
        "| run | ARM | Batch | bytes |",
        "|---|---|---|---|",
    ]
    for name, tally in r["requests_detail"].items():
        lines.append(f"| {name} | {tally['arm']} | {tally['batch']} | {tally['bytes']:,} |")
    scale = r["scale"]
    lines += [
        "",
        "Scale: one poll of a wait (requests, bytes of the answers):",
        "",
        "| wait | small | large |",
        "|---|---|---|",
    ]
    pools = scale["pool_poll"]
    small, large = sorted(pools, key=int)
    for state, label in (
        ("resizing", "pool sensor, pool resizing"),
        ("steady", "pool sensor, pool steady"),
        ("node_listing", "listing the nodes instead"),
    ):
        lines.append(
            f"| {label} ({small} / {large} nodes) | {_cost(pools[small][state])} | {_cost(pools[large][state])} |"
        )
    regions = scale["replication_poll"]
    few, many = sorted(regions, key=int)
    lines.append(f"| replication sensor ({few} / {many} regions) | {_cost(regions[few])} | {_cost(regions[many])} |")
    memory = scale["triggerer_memory"]
    waits = memory["waits"]
    lines += [
        "",
        f"Triggerer memory (resident, one asyncio loop): {memory['idle_kb'] / 1024:.1f} MiB idle, "
        f"{memory['one_wait_kb'] / 1024:.1f} MiB with one wait, {memory[f'{waits}_waits_kb'] / 1024:.1f} MiB "
        f"with {waits}: {memory['per_wait_kb']:.0f} KiB per wait.",
        "",
        "Critical path (emulated seconds of each Azure wait):",
        "",
    ]
    lines += [
        f"- `{task['task_id']}`: {task['emulated_s']:g} s" for task in r["critical_path"]["tasks"] if task["emulated_s"]
    ]
    lines += ["", "![timeline](timeline.png)", ""]
    return lines


def update_readme(r: dict, readme: Path) -> None:
    """Put the summary and the timeline between the README's bench markers, replacing the last run's."""
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    block = [
        f"Latest run: {r['generated']}.",
        "",
        *summary(r),
        "",
        "![timeline of the pipeline and the baseline](bench/results/timeline.png)",
        "",
        "Every figure: [bench/results/latest.md](bench/results/latest.md).",
        "",
    ]
    readme.write_text(text[:start] + "\n" + "\n".join(block) + text[end:])


def _cost(tally: dict) -> str:
    return f"{tally['requests']} req, {tally['bytes']:,} B"


def chart(r: dict, path: Path) -> None:
    """Two timelines on one time axis: the pipeline's tasks (the critical path's in red, the critical
    path's length as a dashed line) and the baseline's steps.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart is only written to a file
    import matplotlib.pyplot as plt

    tasks, steps = r["timeline"]["dag"], r["timeline"]["baseline"]
    critical = {task["task_id"] for task in r["critical_path"]["tasks"]}
    lanes = sorted(
        {t["task_id"] for t in tasks}, key=lambda name: min(t["start"] for t in tasks if t["task_id"] == name)
    )
    figure, (top, bottom) = plt.subplots(
        2,
        1,
        figsize=(12, 0.22 * (len(lanes) + len(steps)) + 2.5),
        sharex=True,
        gridspec_kw={"height_ratios": [len(lanes), len(steps)]},
    )
    for lane, name in enumerate(lanes):
        spans = [(t["start"], t["end"] - t["start"]) for t in tasks if t["task_id"] == name]
        top.broken_barh(spans, (lane - 0.4, 0.8), color="#c0392b" if name in critical else "#5d7fa3")
    top.axvline(r["critical_path_s"], color="#c0392b", linestyle="--", linewidth=1)
    # A task's bar shows its last try; an earlier one ended in the gap before it.
    retried = {t["task_id"]: t["try_number"] for t in tasks if t["try_number"] > 1}
    top.set_yticks(range(len(lanes)), [f"{n} (try {retried[n]})" if n in retried else n for n in lanes], fontsize=7)
    top.invert_yaxis()
    top.set_title(
        f"pipeline under the scheduler: {r['dag_wall_s']:.0f} s; critical path (red, dashed: its "
        f"{r['critical_path_s']:.0f} s of Azure time)",
        fontsize=9,
    )
    for lane, step in enumerate(steps):
        bottom.broken_barh([(step["start"], step["end"] - step["start"])], (lane - 0.4, 0.8), color="#7f8c8d")
    bottom.set_yticks(range(len(steps)), [s["step"] for s in steps], fontsize=7)
    bottom.invert_yaxis()
    bottom.set_title(f"baseline, one step after the other: {r['baseline_wall_s']:.0f} s", fontsize=9)
    bottom.set_xlabel("seconds from the start of the run")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
