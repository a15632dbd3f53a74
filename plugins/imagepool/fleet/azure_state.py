"""What Azure holds for one image family, read through the hooks and kept briefly.

Image versions with their replication per region, and every Batch pool of the spec's accounts that boots
from one of them, with its node counts. The page is drawn from this on every visit and several people may
look at once: a look at Azure is kept ``CACHE_SECONDS``, so they cost Azure one look between them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imagepool.errors import AzureResourceNotFound, ImagepoolError
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.connection import InvalidConnection
from imagepool.hooks.versions import ImageVersionHook
from imagepool.links.portal import portal_url
from imagepool.operators.batch import pool_resource_id

if TYPE_CHECKING:
    from imagepool.spec import Spec

CACHE_SECONDS = 20.0


@dataclass
class AzureFamily:
    """One family's image versions (newest first) and pools, or why Azure could not be read."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    pools: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    definition_url: str | None = None
    read_at: float = 0.0


def _version_key(version: dict) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version["name"].split("."))
    except ValueError:
        return (-1,)


def read_family(spec: Spec) -> AzureFamily:
    """Azure's state for ``spec`` now (no cache). Problems (a missing connection, an Azure error) are kept
    per account or gallery, so what could be read is still shown.
    """
    found = AzureFamily(read_at=time.time())
    gallery, definition = spec.gallery.name, spec.gallery.image_definition
    try:
        hook = ImageVersionHook(spec.connection)
        definition_id = hook.compute_id(spec.resource_group, "galleries", gallery, "images", definition)
        found.definition_url = portal_url(hook.settings.cloud.portal_url, hook.settings.tenant_id, definition_id)
        try:
            listed = hook.list_versions(spec.resource_group, gallery, definition)
        except AzureResourceNotFound:
            listed = []  # no gallery or definition yet: the family has not run
        for version in sorted(listed, key=_version_key, reverse=True):
            detailed = hook.get_version(
                spec.resource_group, gallery, definition, version["name"], with_replication=True
            )
            if detailed is not None:
                detailed["portal_url"] = portal_url(
                    hook.settings.cloud.portal_url, hook.settings.tenant_id, detailed["id"]
                )
                found.versions.append(detailed)
        subscription, tenant, portal = hook.settings.subscription_id, hook.settings.tenant_id, hook.settings.cloud
    except (ImagepoolError, InvalidConnection) as exc:
        found.problems.append(f"gallery {gallery}/{definition}: {exc}")
        return found
    version_ids = {v["id"].lower(): v["name"] for v in found.versions}
    prefix = definition_id.lower() + "/versions/"
    for account in spec.batch.accounts:
        try:
            batch = BatchHook(account.connection, batch_account_url=_account_url(spec, account.name))
            counts = batch.node_counts_by_pool()
            pools = batch.list_pools()
        except (ImagepoolError, InvalidConnection) as exc:
            found.problems.append(f"Batch account {account.name}: {exc}")
            continue
        for pool in pools:
            image = (pool["image_id"] or "").lower()
            if not image.startswith(prefix):
                continue  # a pool of another image
            resource_id = pool_resource_id(
                subscription or "", account.resource_group or spec.resource_group, account.name, pool["id"]
            )
            found.pools.append(
                {
                    **pool,
                    "account": account.name,
                    "region": account.location,
                    "version": version_ids.get(image, image.rsplit("/", 1)[-1]),
                    "node_counts": counts.get(pool["id"], {}),
                    "portal_url": portal_url(portal.portal_url, tenant, resource_id),
                }
            )
    return found


def _account_url(spec: Spec, account: str) -> str:
    from imagepool.pipeline_state import HookState

    return HookState(spec).account_url(spec, account)


class FamilyCache:
    """:func:`read_family` per family, kept ``seconds``; one look at a time per family."""

    def __init__(self, seconds: float = CACHE_SECONDS, read=read_family):
        self.seconds = seconds
        self._read = read
        self._kept: dict[str, AzureFamily] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, spec: Spec) -> AzureFamily:
        with self._guard:
            lock = self._locks.setdefault(spec.name, threading.Lock())
        with lock:
            kept = self._kept.get(spec.name)
            if kept is None or time.time() - kept.read_at > self.seconds:
                kept = self._kept[spec.name] = self._read(spec)
            return kept
