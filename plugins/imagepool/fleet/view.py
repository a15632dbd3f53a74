"""The fleet at a glance: every spec's image family with its versions (state, replication per region, end of
life, excluded from latest), the pools on each version, and the last runs of its DAG with what they decided.

Plain data (JSON-ready) assembled from the spec files, Azure (:mod:`imagepool.fleet.azure_state`) and
Airflow (:mod:`imagepool.fleet.airflow_state`); the page and the JSON endpoint both show this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from imagepool.fleet.pictures import phase_spans
from imagepool.pool_sizing import FAILED_STATES, HEALTHY_STATES
from imagepool.replicas import normalize_region
from imagepool.spec import Spec, SpecError, load_spec

if TYPE_CHECKING:
    from imagepool.fleet.airflow_state import DagFacts, Run
    from imagepool.fleet.azure_state import AzureFamily


@dataclass
class SpecFile:
    """A spec file: the family it defines, or why it cannot be read."""

    path: Path
    spec: Spec | None
    problem: str | None = None


def spec_files(specs_dir: Path) -> list[SpecFile]:
    """Every ``*.yaml`` spec in ``specs_dir``, sorted by file name; a broken one is listed with its problems."""
    found = []
    for path in sorted(specs_dir.glob("*.yaml")):
        try:
            found.append(SpecFile(path, load_spec(path)))
        except SpecError as exc:
            found.append(SpecFile(path, None, str(exc)))
    return found


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def dag_url(dag_id: str) -> str:
    return f"/dags/{quote(dag_id)}"


def run_url(dag_id: str, run_id: str) -> str:
    # As the UI's own links write a run id (manual__2026-12-03T02:00:00+00:00): ':' and '+' as they are.
    return f"/dags/{quote(dag_id)}/runs/{quote(run_id, safe=':+')}"


def task_url(dag_id: str, run_id: str, task_id: str) -> str:
    return f"{run_url(dag_id, run_id)}/tasks/{quote(task_id)}"


def regions_of(version: dict) -> list[dict[str, Any]]:
    """The version's target regions with Azure's replication state, progress and replica count for each."""
    status = {normalize_region(r["region"]): r for r in ((version.get("replication") or {}).get("regions") or [])}
    regions = []
    for target in version["target_regions"]:
        seen = status.get(target["name"], {})
        regions.append(
            {
                "region": target["name"],
                "replicas": target["regional_replica_count"],
                "storage_account_type": target["storage_account_type"],
                "state": seen.get("state") or "Unknown",
                "progress": seen.get("progress") or 0,
                "details": seen.get("details") or "",
            }
        )
    return regions


def pool_view(pool: dict) -> dict[str, Any]:
    counts = pool["node_counts"]
    return {
        "id": pool["id"],
        "account": pool["account"],
        "region": pool["region"],
        "version": pool["version"],
        "state": pool["state"],
        "allocation_state": pool["allocation_state"],
        "vm_size": pool["vm_size"],
        "ready": sum(counts.get(state, 0) for state in HEALTHY_STATES),
        "failed": sum(counts.get(state, 0) for state in FAILED_STATES),
        "target": pool["target_dedicated_nodes"] + pool["target_low_priority_nodes"],
        "node_counts": {state: n for state, n in sorted(counts.items()) if n and state != "total"},
        "portal_url": pool["portal_url"],
    }


def decision(run: Run) -> dict[str, str]:
    """What a run decided, in one line: build, no change or failed with its reason (or still going)."""
    version = run.plan.get("version")
    if run.state == "failed":
        first = run.failures[0] if run.failures else None
        if first is None:
            return {"kind": "failed", "text": "failed"}
        code = f" ({first['code']})" if first.get("code") else ""
        return {"kind": "failed", "text": f"failed in {first['task_id']}{code}: {first['detail']}"}
    if not run.plan:
        return {"kind": run.state, "text": run.state}
    planned = f"build {version}" if run.plan.get("build") else f"no change ({version})"
    text = f"{planned}: {run.plan.get('reason', '')}"
    if run.state == "success":
        kind = "degraded" if run.degraded else ("build" if run.plan.get("build") else "no_change")
        if run.degraded:
            text += "; degraded: " + ", ".join(
                f"{d['pool_id']} {d['healthy_nodes']}/{d['target_nodes']} healthy" for d in run.degraded
            )
        return {"kind": kind, "text": text}
    return {"kind": run.state, "text": f"{run.state}: {text}"}


def run_view(dag_id: str, run: Run) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "run_type": run.run_type,
        "state": run.state,
        "run_after": _iso(run.run_after),
        "start": _iso(run.start),
        "end": _iso(run.end),
        "url": run_url(dag_id, run.run_id),
        "version": run.plan.get("version"),
        "decision": decision(run),
        "failures": [{**f, "url": task_url(dag_id, run.run_id, f["task_id"])} for f in run.failures],
        "degraded": [{**d, "url": task_url(dag_id, run.run_id, d["task_id"])} for d in run.degraded],
        "phases": [
            {"phase": phase, "start": _iso(start), "end": _iso(end), "failed": failed}
            for phase, start, end, failed in phase_spans(run)
        ],
    }


def family_view(
    spec_file: SpecFile, dag: DagFacts | None, azure: AzureFamily | None, *, schedules_on: bool = True
) -> dict[str, Any]:
    spec = spec_file.spec
    if spec is None:
        return {"name": spec_file.path.stem, "spec_file": spec_file.path.name, "problem": spec_file.problem}
    pools = [pool_view(p) for p in (azure.pools if azure else [])]
    versions = []
    for version in azure.versions if azure else []:
        versions.append(
            {
                "name": version["name"],
                "state": version["provisioning_state"],
                "published": version.get("published_date"),
                "end_of_life": version.get("end_of_life_date"),
                "exclude_from_latest": version["exclude_from_latest"],
                "aggregated_state": (version.get("replication") or {}).get("aggregated_state"),
                "portal_url": version.get("portal_url"),
                "regions": regions_of(version),
                "pools": sorted(
                    (p for p in pools if p["version"] == version["name"]), key=lambda p: (p["region"], p["id"])
                ),
            }
        )
    return {
        "name": spec.name,
        "description": spec.description,
        "spec_file": spec_file.path.name,
        "problem": None,
        "os_type": spec.os_type,
        "gallery": f"{spec.gallery.name}/{spec.gallery.image_definition}",
        "definition_url": azure.definition_url if azure else None,
        "schedule": spec.schedule,
        "schedules_on": schedules_on,
        "dag": {
            "dag_id": spec.dag_id,
            "exists": bool(dag and dag.exists),
            "is_paused": dag.is_paused if dag else None,
            "next_run": _iso(dag.next_run) if dag and not dag.is_paused else None,
            "url": dag_url(spec.dag_id),
        },
        "azure_problems": list(azure.problems) if azure else [],
        "azure_read_at": datetime.fromtimestamp(azure.read_at, UTC).isoformat() if azure else None,
        "versions": versions,
        # Pools on images this view does not list (a version deleted under them) are still shown.
        "other_pools": [p for p in pools if p["version"] not in {v["name"] for v in versions}],
        "runs": [run_view(spec.dag_id, run) for run in (dag.runs if dag else [])],
    }
