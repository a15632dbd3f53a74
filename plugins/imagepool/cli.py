"""The command line: check specs before they reach Airflow, and show what a run would do."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imagepool.spec import SpecError, build_script, load_spec


def validate(paths: list[Path]) -> int:
    failed = 0
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            print(exc, file=sys.stderr)
            failed += 1
            continue
        print(
            f"{path}: valid (DAG {spec.dag_id}, {len(spec.batch.pools)} pool(s), {len(spec.target_regions)} region(s))"
        )
    return 1 if failed else 0


def describe_plan(path: Path) -> str:
    """What a run of this spec would do, from the spec alone."""
    spec = load_spec(path)
    script = build_script(spec, path)
    base = spec.base_image
    lines = [
        f"DAG {spec.dag_id}  schedule: {spec.schedule or 'manual only'}",
        f"image: {spec.gallery.name}/{spec.gallery.image_definition} ({spec.os_type}, {spec.hyper_v_generation}, "
        f"{spec.security_type}) via {spec.image_path.replace('_', ' ')}",
        f"base image: {base.publisher}:{base.offer}:{base.sku}:{base.version}",
        f"build: {spec.build.vm_size} in {spec.build.location}, {len(spec.build.data_disks)} data disk(s), "
        f"script {spec.build.script} ({len(script.encode())} bytes), timeout {spec.build.timeout_minutes} min",
        f"next version: {spec.version.major}.{spec.version.minor}.<next patch> (strictly above every version "
        "published so far; a run whose inputs match the latest version builds nothing)",
        "replicas per region (ceil(nodes / vms_per_replica), at least min_replicas, at most 100):",
    ]
    replicas = spec.replicas_per_region()
    nodes = spec.nodes_per_region()
    for region in spec.target_regions:
        lines.append(
            f"  {region.name:<20} {replicas[region.name]:>3} replica(s)  {region.storage_account_type:<14} "
            f"{nodes.get(region.name, 0)} pool node(s)"
        )
    lines.append("pools to create (the previous pool with the same prefix is retired after the smoke test):")
    for pool in spec.batch.pools:
        account = spec.account(pool.account)
        timeout = int(pool.resize_timeout().total_seconds() // 60)
        lines.append(
            f"  {pool.pool_id('<version>'):<28} account {account.name} ({account.location}), "
            f"{pool.vm_size}, {pool.dedicated_nodes} dedicated + {pool.spot_nodes} spot, "
            f"resize timeout {timeout} min, healthy >= {pool.required_healthy_fraction:.0%}"
        )
    lines.append(f"retention: newest {spec.version.retention} version(s) and every version a pool uses")
    return "\n".join(lines)


def plan(paths: list[Path]) -> int:
    try:
        print("\n\n".join(describe_plan(p) for p in paths))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagepool", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("validate", "check specs; exit 0 when all are valid"),
        ("plan", "show what a run of each spec would do"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("specs", nargs="+", type=Path, metavar="SPEC")
    args = parser.parse_args(argv)
    return validate(args.specs) if args.command == "validate" else plan(args.specs)
