"""How many replicas of an image version each region needs, from the Batch pools that boot from it.

Azure's Batch guidance: keep at least one replica per 300 VMs of a pool created from a gallery
image (3,000 VMs -> 10; older revisions said 600, so the divisor is a parameter), and "more than
the minimum is better". A version holds at most 100 replicas per region. A region's need is sized
from the nodes of all its pools together, as the pipeline spec sizes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import ceil

MAX_REPLICAS = 100
DEFAULT_VMS_PER_REPLICA = 300


def normalize_region(name: str) -> str:
    """Azure spells one region ``"West Europe"`` or ``"westeurope"``; compare the short form."""
    return name.replace(" ", "").lower()


def replicas_for(nodes: int, vms_per_replica: int = DEFAULT_VMS_PER_REPLICA) -> int:
    """Replicas one pool of ``nodes`` target nodes needs: ``ceil(nodes / vms_per_replica)``, 1 to 100."""
    if vms_per_replica < 1:
        raise ValueError(f"vms_per_replica must be at least 1, got {vms_per_replica}")
    if nodes < 0:
        raise ValueError(f"a pool cannot target {nodes} nodes")
    return min(MAX_REPLICAS, max(1, ceil(nodes / vms_per_replica)))


def pool_nodes(pool: Mapping) -> int:
    """A pool's target size: dedicated plus spot (low-priority) nodes, as the Batch SDK names them."""
    return int(pool.get("target_dedicated_nodes") or 0) + int(pool.get("target_low_priority_nodes") or 0)


def replica_plan(
    regions: Iterable[str],
    pools: Iterable[Mapping],
    *,
    vms_per_replica: int = DEFAULT_VMS_PER_REPLICA,
    minimum: int = 1,
) -> dict[str, int]:
    """``{region: replicas}`` for every target region and every region that hosts a pool.

    A pool's region is included even when it is not a target region: a pool can only boot from a
    version replicated to its region. Regions without pools keep ``minimum``.

    :param regions: the version's target regions (either spelling).
    :param pools: ``{"region", "target_dedicated_nodes", "target_low_priority_nodes"}`` per pool.
    :param vms_per_replica: pool nodes one replica serves (default 300).
    :param minimum: replicas in every region, with or without pools (default 1).
    """
    if not 1 <= minimum <= MAX_REPLICAS:
        raise ValueError(f"the minimum replica count must be between 1 and {MAX_REPLICAS}, got {minimum}")
    plan = {normalize_region(region): minimum for region in regions}
    nodes: dict[str, int] = {}
    for pool in pools:
        region = normalize_region(pool["region"])
        nodes[region] = nodes.get(region, 0) + pool_nodes(pool)
    for region, count in nodes.items():
        plan[region] = max(minimum, replicas_for(count, vms_per_replica))
    return plan
