"""What the run plan needs to know about Azure, read through the hooks (nothing is changed here)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from imagepool.errors import AzureResourceNotFound
from imagepool.hooks.batch import BatchHook
from imagepool.hooks.connection import InvalidConnection
from imagepool.hooks.versions import ImageVersionHook
from imagepool.hooks.vm import VmHook
from imagepool.planning import LAST_VERSION_TAG

if TYPE_CHECKING:
    from imagepool.spec import Spec


class HookState:
    """:class:`imagepool.planning.AzureState` backed by the spec's connection."""

    def __init__(self, spec: Spec):
        self.spec = spec

    @cached_property
    def _versions_hook(self) -> ImageVersionHook:
        return ImageVersionHook(self.spec.connection)

    def check_connections(self) -> None:
        """Refuse, before any call, a Batch account connection that cannot create this spec's pools
        (an account key: Batch refuses it for pools that boot from a gallery image).
        """
        for i, account in enumerate(self.spec.batch.accounts):
            if any(pool.account == account.name for pool in self.spec.batch.pools):
                try:
                    BatchHook(account.connection).require_entra_id(
                        f"create pools in {account.name} from a Compute Gallery image"
                    )
                except InvalidConnection as exc:
                    raise InvalidConnection(f"batch.accounts[{i}].connection: {exc}") from None

    def resolve_base_version(self, spec: Spec, override: str | None) -> str:
        base = spec.base_image
        found = VmHook(spec.connection).resolve_image(
            spec.build.location, base.publisher, base.offer, base.sku, override or base.version
        )
        return found["version"]

    def versions(self, spec: Spec) -> list[dict]:
        try:
            return self._versions_hook.list_versions(
                spec.resource_group, spec.gallery.name, spec.gallery.image_definition
            )
        except AzureResourceNotFound:
            return []

    def last_version(self, spec: Spec) -> str | None:
        definition = self._versions_hook.get_image_definition(
            spec.resource_group, spec.gallery.name, spec.gallery.image_definition
        )
        return (definition or {}).get("tags", {}).get(LAST_VERSION_TAG)

    def version_id(self, spec: Spec, version: str) -> str:
        return self._versions_hook.version_id(
            spec.resource_group, spec.gallery.name, spec.gallery.image_definition, version
        )

    def account_url(self, spec: Spec, account: str) -> str:
        entry = spec.account(account)
        return entry.url or self._versions_hook.settings.cloud.batch_account_url(entry.name, entry.location)

    def pools(self, spec: Spec, account: str) -> list[str]:
        return BatchHook(spec.account(account).connection, batch_account_url=self.account_url(spec, account)).pool_ids()
