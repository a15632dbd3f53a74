"""Pure rules for Batch pools: how long a resize may take, which resize errors are worth another
try, and when a pool's nodes are healthy enough to use.

No Azure calls here: the Batch operators, sensor and triggers apply these rules to what the hook
reads, and each rule is unit-tested entry by entry.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

# Batch's guidance: at least 15 minutes per 1000 nodes for a fixed-size pool, never less than its
# own 15-minute default (custom-image pools are slower to allocate than Marketplace ones).
RESIZE_TIMEOUT_PER_1000_NODES = timedelta(minutes=15)
# Batch refuses a resizeTimeout below 5 minutes (400 InvalidPropertyValue).
MIN_RESIZE_TIMEOUT = timedelta(minutes=5)
# After allocation ends, nodes still boot, start the agent and run the start task.
NODE_START_ALLOWANCE = timedelta(minutes=30)

POOL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def resize_timeout(nodes: int) -> timedelta:
    """``max(15 min, 15 min * ceil(nodes / 1000))``: 3000 nodes -> 45 minutes."""
    return max(RESIZE_TIMEOUT_PER_1000_NODES, RESIZE_TIMEOUT_PER_1000_NODES * math.ceil(max(nodes, 0) / 1000))


def steady_timeout(nodes: int, resize: timedelta | None = None) -> timedelta:
    """How long to wait for a pool to be steady and healthy: its resize timeout plus node start-up."""
    return (resize or resize_timeout(nodes)) + NODE_START_ALLOWANCE


def pool_id_problem(pool_id) -> str | None:
    """Why Batch would refuse ``pool_id``, or None."""
    if not isinstance(pool_id, str) or not POOL_ID.match(pool_id):
        return (
            f"pool id {pool_id!r} must be 1-64 letters, digits, '-' or '_' (Batch ids are case-insensitive; "
            "derive it from the image version, e.g. 'render-1-4-2')"
        )
    return None


# --- resize errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResizeErrorRule:
    retryable: bool
    next_step: str


_QUOTA = (
    "request more {kind} cores for the Batch account (Azure portal > Batch account > Quotas), or lower the "
    "pool's target or VM size"
)
RESIZE_ERRORS: dict[str, ResizeErrorRule] = {
    # Capacity was short or slow this time; the same request often succeeds a little later.
    "AllocationFailed": ResizeErrorRule(
        True,
        "Azure could not allocate the nodes; if it keeps failing, check the "
        "error's Reason, the image's replicas in the region, or try another "
        "VM size or region",
    ),
    "AllocationTimedout": ResizeErrorRule(
        True,
        "allocation outlasted the resize timeout; if it keeps happening, "
        "raise resize_timeout or add image replicas in the region",
    ),
    "InternalError": ResizeErrorRule(True, "a transient Batch service error; if it persists, open a support case"),
    "ServerBusy": ResizeErrorRule(True, "Batch is busy; if it persists, open a support case"),
    "OperationTimedOut": ResizeErrorRule(
        True, "a transient Batch service timeout; if it persists, open a support case"
    ),
    # Retrying cannot help until someone changes a quota, the spec or the pool.
    "AccountCoreQuotaReached": ResizeErrorRule(False, _QUOTA.format(kind="dedicated")),
    "AccountLowPriorityCoreQuotaReached": ResizeErrorRule(False, _QUOTA.format(kind="spot (low-priority)")),
    "AccountSpotCoreQuotaReached": ResizeErrorRule(False, _QUOTA.format(kind="spot")),
    "AccountVMSeriesCoreQuotaReached": ResizeErrorRule(False, _QUOTA.format(kind="per-VM-series")),
    "InvalidPropertyValue": ResizeErrorRule(False, "fix the pool property the error names in the pipeline spec"),
    "ResizeStopped": ResizeErrorRule(False, "someone stopped the resize; resize the pool again or re-run the task"),
    "RemoveNodesFailed": ResizeErrorRule(False, "removing nodes failed; check the nodes' state in the portal"),
    "CommunicationEnabledPoolReachedMaxVMCount": ResizeErrorRule(
        False, "pools with inter-node communication are capped in size; lower the target"
    ),
}
# An unknown code is not retried: looping on an error nobody understood hides it.
UNKNOWN_RESIZE_ERROR = ResizeErrorRule(False, "see the error's message and values; fix the cause and re-run the task")


def resize_error_rule(code: str) -> ResizeErrorRule:
    return RESIZE_ERRORS.get(code, UNKNOWN_RESIZE_ERROR)


# --- node health -----------------------------------------------------------------------------------

HEALTHY_STATES = ("idle", "running")
# Nodes in these states will not become usable on their own: a custom image that breaks the node
# agent never recovers, and a failed start task stays failed until the node is rebooted.
FAILED_STATES = ("unusable", "startTaskFailed")
# Still on the way to idle.
PENDING_STATES = ("creating", "starting", "waitingForStartTask", "rebooting", "reimaging", "unknown", "upgradingOS")
# Shown in progress messages in this order; anything else nonzero follows.
SHOWN_STATES = (
    "running",
    "creating",
    "starting",
    "waitingForStartTask",
    "unusable",
    "startTaskFailed",
    "preempted",
    "leavingPool",
    "offline",
)

HEALTHY, WAITING, FAILED, SHORT = "healthy", "waiting", "failed", "short"


@dataclass(frozen=True)
class Health:
    """The verdict on a steady pool's nodes and the numbers behind it."""

    verdict: str
    target: int
    healthy: int
    failed: int
    pending: int
    required: int
    tolerated: int


def assess(counts: dict[str, int], target: int, min_healthy_fraction: float, max_failed_fraction: float) -> Health:
    """Judge node counts (all node kinds summed) of a steady pool against its target.

    ``failed`` (unusable + startTaskFailed) above ``floor(max_failed_fraction * target)`` fails at
    once: those nodes do not recover. Otherwise the pool is healthy when at least
    ``ceil(min_healthy_fraction * target)`` nodes are idle or running; it is still waiting while
    nodes boot, and short when nothing more is on the way.
    """
    healthy = sum(counts.get(state, 0) for state in HEALTHY_STATES)
    failed = sum(counts.get(state, 0) for state in FAILED_STATES)
    pending = sum(counts.get(state, 0) for state in PENDING_STATES)
    required = math.ceil(min_healthy_fraction * target - 1e-9)
    tolerated = math.floor(max_failed_fraction * target + 1e-9)
    if failed > tolerated:
        verdict = FAILED
    elif healthy >= required:
        verdict = HEALTHY
    elif pending:
        verdict = WAITING
    else:
        verdict = SHORT
    return Health(verdict, target, healthy, failed, pending, required, tolerated)


def describe_states(counts: dict[str, int], leave_out: tuple[str, ...] = ()) -> str:
    """``"2 idle, 40 running, 3 unusable"``: the nonzero counters, the telling ones first."""
    order = ["idle", *SHOWN_STATES]
    shown = [*order, *sorted(k for k in counts if k not in order and k != "total")]
    return ", ".join(f"{counts[state]} {state}" for state in shown if counts.get(state) and state not in leave_out)


def describe_counts(counts: dict[str, int], target: int) -> str:
    """``"1800/3000 idle, 40 running, 12 starting, 3 unusable"``: idle against the target, then the rest."""
    rest = describe_states(counts, leave_out=("idle",))
    return f"{counts.get('idle', 0)}/{target} idle" + (f", {rest}" if rest else "")
