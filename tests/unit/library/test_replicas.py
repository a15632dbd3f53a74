"""Replica sizing: one replica per ``vms_per_replica`` pool nodes, 1 to 100 per region."""

from __future__ import annotations

import pytest

from imagepool.replicas import MAX_REPLICAS, normalize_region, pool_nodes, replica_plan, replicas_for


@pytest.mark.parametrize(
    ("nodes", "vms_per_replica", "replicas"),
    [
        (3000, 300, 10),  # the current Batch guidance
        (3000, 600, 5),  # the older guidance
        (0, 300, 1),  # never fewer than one
        (1, 300, 1),
        (300, 300, 1),
        (301, 300, 2),
        (29_999, 300, 100),
        (30_001, 300, MAX_REPLICAS),  # Azure's cap
        (1_000_000, 1, MAX_REPLICAS),
    ],
)
def test_replicas_for(nodes, vms_per_replica, replicas):
    assert replicas_for(nodes, vms_per_replica) == replicas


def test_replicas_for_defaults_to_300_vms_per_replica():
    assert replicas_for(3000) == 10


@pytest.mark.parametrize(("nodes", "vms_per_replica"), [(-1, 300), (10, 0)])
def test_replicas_for_refuses_nonsense(nodes, vms_per_replica):
    with pytest.raises(ValueError, match="vms_per_replica must be at least 1|cannot target -1 nodes"):
        replicas_for(nodes, vms_per_replica)


@pytest.mark.parametrize("name", ["West Europe", "westeurope", "WestEurope", "west europe"])
def test_region_spellings_are_one_region(name):
    assert normalize_region(name) == "westeurope"


def test_pool_nodes_count_dedicated_and_spot():
    assert pool_nodes({"target_dedicated_nodes": 2000, "target_low_priority_nodes": 1000}) == 3000
    assert pool_nodes({"target_dedicated_nodes": None}) == 0


def test_plan_sizes_regions_from_their_pools_and_keeps_the_minimum_elsewhere():
    pools = [
        {"region": "West Europe", "target_dedicated_nodes": 2000, "target_low_priority_nodes": 1000},
        {"region": "westeurope", "target_dedicated_nodes": 300},
        {"region": "eastus", "target_low_priority_nodes": 10},
    ]
    plan = replica_plan(["westeurope", "North Europe"], pools)
    # West Europe: 3300 nodes -> 11; North Europe has no pool; East US hosts a pool, so it is planned too.
    assert plan == {"westeurope": 11, "northeurope": 1, "eastus": 1}


def test_plan_minimum_applies_to_every_region_and_the_cap_to_pool_regions():
    pools = [
        {"region": "westeurope", "target_dedicated_nodes": 100_000},
        {"region": "eastus", "target_dedicated_nodes": 10},
    ]
    assert replica_plan(["westeurope", "northeurope"], pools, minimum=3) == {
        "westeurope": MAX_REPLICAS,
        "northeurope": 3,
        "eastus": 3,
    }


def test_plan_with_another_divisor():
    assert replica_plan(
        ["westeurope"], [{"region": "westeurope", "target_dedicated_nodes": 3000}], vms_per_replica=600
    ) == {"westeurope": 5}


@pytest.mark.parametrize("minimum", [0, MAX_REPLICAS + 1])
def test_plan_refuses_a_minimum_azure_cannot_hold(minimum):
    with pytest.raises(ValueError, match="minimum replica count must be between 1 and 100"):
        replica_plan(["westeurope"], [], minimum=minimum)
