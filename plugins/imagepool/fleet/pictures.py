"""The view's pictures, drawn here as SVG: replication per region as bars, and a timeline of the last runs'
phases (plan, build, replication, pools, cleanup) from their task instances. No script, no font, no
library: the browser draws them as they come.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagepool.fleet.airflow_state import Run

STATE_COLOURS = {
    "Completed": "#2e7d32",
    "Replicating": "#1565c0",
    "Failed": "#c62828",
}
PHASES = ("plan", "build", "replication", "pools", "cleanup")
PHASE_COLOURS = {
    "plan": "#8e8e8e",
    "build": "#6a4c93",
    "replication": "#1565c0",
    "pools": "#2e7d32",
    "cleanup": "#b0892f",
}
FAILED_COLOUR = "#c62828"
NOT_RUN = ("skipped", "upstream_failed", "removed")
REPLICATION_TASK = re.compile(r"^(region_[^.]+\.replicated|image\.replicated_everywhere|scale_replicas)$")
CLEANUP_TASK = re.compile(r"^(prune_versions|image\.cleanup_build_resources|image\.any_image_step_failed)$")


def replication_bars(regions: list[dict]) -> str:
    """One bar per region: the share replicated, coloured by state, with the replica count.

    ``regions``: ``{"region", "state", "progress", "replicas"}`` each.
    """
    row, label_w, bar_w = 22, 130, 220
    height = row * len(regions) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="replication" role="img" width="{label_w + bar_w + 210}" '
        f'height="{height}" aria-label="replication per region">'
    ]
    for i, region in enumerate(regions):
        y = 2 + i * row
        progress = max(0, min(100, int(region.get("progress") or 0)))
        state = region.get("state") or "Unknown"
        colour = STATE_COLOURS.get(state, "#757575")
        replicas = region.get("replicas")
        caption = f"{progress}% {state.lower()}" + (
            f", {replicas} replica{'s' if replicas != 1 else ''}" if replicas else ""
        )
        parts.append(
            f'<g class="region" data-region="{escape(region["region"])}" data-state="{escape(state)}" '
            f'data-progress="{progress}"><title>{escape(region["region"])}: {escape(caption)}</title>'
            f'<text x="0" y="{y + 14}" font-size="12">{escape(region["region"])}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" rx="3" fill="#e0e0e0"/>'
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{bar_w * progress / 100:.1f}" height="14" rx="3" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 14}" font-size="12">{escape(caption)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def phase_of(task_id: str) -> str:
    """Which phase of a run a task belongs to (the DAG's layout, see :mod:`imagepool.pipeline`)."""
    if REPLICATION_TASK.match(task_id):
        return "replication"
    if CLEANUP_TASK.match(task_id):
        return "cleanup"
    if task_id.startswith("image."):
        return "build"
    if task_id.startswith("region_"):
        return "pools"
    return "plan"


def phase_spans(run: Run) -> list[tuple[str, datetime, datetime, bool]]:
    """``(phase, first start, last end, any task failed)`` for each phase a run's tasks ran in, in order."""
    spans: dict[str, list] = {}
    now = datetime.now(run.start.tzinfo) if run.start else None
    for task in run.tasks:
        # A skipped branch has times too, but took none.
        if task.start is None or task.state in NOT_RUN:
            continue
        end = task.end or now or task.start
        span = spans.setdefault(phase_of(task.task_id), [task.start, end, False])
        span[0], span[1] = min(span[0], task.start), max(span[1], end)
        span[2] = span[2] or task.state in ("failed", "upstream_failed")
    return [(phase, *spans[phase]) for phase in PHASES if phase in spans]  # type: ignore[misc]


def run_timeline(runs: list[dict], width: int = 680) -> str:
    """A row per run (newest on top): each phase a bar from its first task's start to its last task's end,
    on one time scale (the longest run fills the width), so runs compare at a glance.

    ``runs``: ``{"run_id", "run_type", "run_after", "phases": [{"phase", "start", "end", "failed"}]}`` each,
    times in ISO 8601.
    """
    label_w, lane, axis = 190, 7, 20
    row = lane * len(PHASES) + 8
    rows = [(run, [_parsed(p) for p in run["phases"]]) for run in runs if run["phases"]]
    if not rows:
        return ""
    longest = max((max(p[2] for p in spans) - spans[0][1]).total_seconds() for _, spans in rows) or 1.0
    scale = (width - label_w - 80) / longest
    height = axis + row * len(rows) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="{width}" height="{height}" '
        'aria-label="timeline of the last runs">'
    ]
    for i, phase in enumerate(PHASES):
        key_x = label_w + i * 90
        parts.append(
            f'<rect x="{key_x}" y="4" width="10" height="10" fill="{PHASE_COLOURS[phase]}"/>'
            f'<text x="{key_x + 14}" y="13" font-size="11">{phase}</text>'
        )
    for i, (run, spans) in enumerate(rows):
        y = axis + i * row
        origin = spans[0][1]
        total = (max(p[2] for p in spans) - origin).total_seconds()
        label = f"{run['run_after'][:16].replace('T', ' ')} {run['run_type']}"
        middle = y + row / 2 + 4
        parts.append(
            f'<g class="run" data-run-id="{escape(run["run_id"], quote=True)}">'
            f'<text x="0" y="{middle:.0f}" font-size="11">{escape(label)}</text>'
        )
        # Each phase on a lane of its own: phases overlap (pools start while other regions still replicate).
        for phase, start, end, failed in spans:
            x = label_w + (start - origin).total_seconds() * scale
            w = max(2.0, (end - start).total_seconds() * scale)
            colour = FAILED_COLOUR if failed else PHASE_COLOURS[phase]
            seconds = (end - start).total_seconds()
            parts.append(
                f'<rect class="phase" data-phase="{phase}" x="{x:.1f}" y="{y + 4 + PHASES.index(phase) * lane}" '
                f'width="{w:.1f}" height="{lane - 1}" fill="{colour}"><title>{phase}: {_duration(seconds)}'
                f"{' (failed)' if failed else ''}</title></rect>"
            )
        parts.append(
            f'<text x="{label_w + total * scale + 4:.1f}" y="{middle:.0f}" font-size="11">{_duration(total)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _parsed(phase: dict) -> tuple[str, datetime, datetime, bool]:
    return phase["phase"], datetime.fromisoformat(phase["start"]), datetime.fromisoformat(phase["end"]), phase["failed"]


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
