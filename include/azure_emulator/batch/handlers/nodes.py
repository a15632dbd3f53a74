"""Compute nodes of a pool (list, get) and the account's node counts per pool."""

from __future__ import annotations

from azure_emulator.batch.handlers.common import ACCOUNT, account, entity, listing
from azure_emulator.batch.handlers.pools import POOL, pool_url
from azure_emulator.batch.models import nodes as model
from azure_emulator.routing import NAME, Call

NODES = rf"{POOL}/nodes"


def serialize(call: Call, pool: dict, node: dict) -> dict:
    return {**node, "url": f"{pool_url(call, pool['id'])}/nodes/{node['id']}"}


async def list_nodes(call: Call):
    pool, found = model.pool_nodes(call.backend, account(call), call.params["pool"])
    return listing(call, [serialize(call, pool, node) for node in found], "nodes")


async def get_node(call: Call):
    pool, node = model.pool_node(call.backend, account(call), call.params["pool"], call.params["node"])
    return entity(call, serialize(call, pool, node), "nodes")


async def list_pool_node_counts(call: Call):
    return listing(call, model.account_counts(call.backend, account(call)), "poolnodecounts")


ROUTES = [
    ("GET", NODES, list_nodes),
    ("GET", rf"{NODES}/(?P<node>{NAME})", get_node),
    ("GET", rf"{ACCOUNT}/nodecounts", list_pool_node_counts),
]
