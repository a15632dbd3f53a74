"""The emulated Batch accounts: those made with the data dir (in its settings) and those added at run time
through the control endpoint, each with the settings its ARM resource reports (quotas, authentication modes).

Run-time changes (a lower quota, Entra ID only, a new account) live in the store and go with a reset.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets

from azure_emulator.settings import BatchAccount

VARIANTS = "catalogue/batchAccounts"
# What the control endpoint may change on an account, and the JSON type of each.
SETTABLE = {
    "location": str,
    "dedicated_core_quota": int,
    "low_priority_core_quota": int,
    "pool_quota": int,
    "allowed_authentication_modes": [str],
    "dedicated_core_quota_per_vm_family": {str: int},
    "dedicated_core_quota_per_vm_family_enforced": bool,
    "resource_group": str,
}


def _merged(base: BatchAccount | None, variant: dict) -> BatchAccount:
    if base is None:
        return BatchAccount(**variant)
    return dataclasses.replace(base, **{k: v for k, v in variant.items() if k != "name"})


def all_accounts(backend) -> list[BatchAccount]:
    found = {a.name.lower(): a for a in backend.settings.batch_accounts}
    for key, variant in backend.store.items(VARIANTS):
        found[key] = _merged(found.get(key), variant)
    return list(found.values())


def find(backend, name: str) -> BatchAccount | None:
    """The account named ``name`` (any case), or None."""
    return next((a for a in all_accounts(backend) if a.name.lower() == name.lower()), None)


def get(backend, name: str) -> BatchAccount:
    """An account a request has already been authenticated for (so it exists)."""
    found = find(backend, name)
    if found is None:
        raise KeyError(f"no Batch account '{name}'")
    return found


def resource_group(backend, account: BatchAccount) -> str:
    return account.resource_group or backend.settings.resource_group


def family_quota(account: BatchAccount, family: str) -> int:
    return account.dedicated_core_quota_per_vm_family.get(family, account.dedicated_core_quota)


def put(backend, name: str, changes: dict) -> tuple[BatchAccount, bool]:
    """Change an account's settings, or add an account (``location`` required); (account, created)."""
    existing = find(backend, name)
    stored = dict(backend.store.get(VARIANTS, name) or {}, **changes)
    if existing is None:
        if not stored.get("location"):
            raise ValueError(f"a new Batch account needs a location; '{name}' does not exist yet")
        stored.update(name=name, key=base64.b64encode(secrets.token_bytes(64)).decode())
    backend.store.put(VARIANTS, name, stored)
    return get(backend, name), existing is None
