"""Microsoft.Batch/batchAccounts, the management plane of the emulated Batch accounts: Get, List (in a
resource group, in the subscription) and List Keys. The settings they report (quotas, authentication
modes, endpoint) are the ones the data plane (``/batch/{account}``) applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator import batchaccounts, catalogue
from azure_emulator.arm.common import RG, SUB, api_version, not_found, paged, respond
from azure_emulator.errors import AzureError
from azure_emulator.routing import NAME, Call

if TYPE_CHECKING:
    from azure_emulator.settings import BatchAccount

ACCOUNT = rf"{RG}/providers/Microsoft\.Batch/batchAccounts/(?P<account>{NAME})"
TYPE = "Microsoft.Batch/batchAccounts"


def document(call: Call, account: BatchAccount) -> dict:
    group = batchaccounts.resource_group(call.backend, account)
    host = call.request.headers.get("host", "127.0.0.1")
    return {
        "id": f"/subscriptions/{call.backend.settings.subscription_id}/resourceGroups/{group}/providers/{TYPE}/"
        f"{account.name}",
        "name": account.name,
        "type": TYPE,
        "location": account.location,
        "tags": {},
        "identity": {"type": "None"},
        "properties": {
            # Azure gives the data plane's host name; the emulator's Batch accounts live under a path.
            "accountEndpoint": f"{host}/batch/{account.name}",
            "provisioningState": "Succeeded",
            "poolAllocationMode": "BatchService",
            "publicNetworkAccess": "Enabled",
            "privateEndpointConnections": [],
            "encryption": {"keySource": "Microsoft.Batch"},
            "dedicatedCoreQuota": account.dedicated_core_quota,
            "lowPriorityCoreQuota": account.low_priority_core_quota,
            "dedicatedCoreQuotaPerVMFamily": [
                {"name": family, "coreQuota": batchaccounts.family_quota(account, family)}
                for family in dict.fromkeys([*catalogue.FAMILIES, *account.dedicated_core_quota_per_vm_family])
            ],
            "dedicatedCoreQuotaPerVMFamilyEnforced": account.dedicated_core_quota_per_vm_family_enforced,
            "poolQuota": account.pool_quota,
            "activeJobAndJobScheduleQuota": 300,
            "allowedAuthenticationModes": list(account.allowed_authentication_modes),
        },
    }


def _in_group(call: Call) -> list[BatchAccount]:
    group = call.params["resource_group"].lower()
    return [
        a
        for a in batchaccounts.all_accounts(call.backend)
        if batchaccounts.resource_group(call.backend, a).lower() == group
    ]


def _account(call: Call) -> BatchAccount:
    api_version(call)
    found = next((a for a in _in_group(call) if a.name.lower() == call.params["account"].lower()), None)
    if found is None:
        raise not_found(TYPE, call.params["account"], call)
    return found


async def get_account(call: Call):
    return respond(document(call, _account(call)))


async def list_in_group(call: Call):
    api_version(call)
    return paged(call, [document(call, a) for a in _in_group(call)])


async def list_in_subscription(call: Call):
    api_version(call)
    return paged(call, [document(call, a) for a in batchaccounts.all_accounts(call.backend)])


async def list_keys(call: Call):
    account = _account(call)
    if "SharedKey" not in account.allowed_authentication_modes:
        raise AzureError(
            "BadRequest",
            f"The account '{account.name}' does not allow SharedKey authentication (its allowedAuthenticationModes "
            f"are {', '.join(account.allowed_authentication_modes)}), so it has no keys to list.",
        )
    # The emulator keeps one key per account: the secondary is derived from it, and never accepted.
    return respond({"accountName": account.name, "primary": account.key, "secondary": account.key[::-1]})


ROUTES = [
    ("GET", ACCOUNT, get_account),
    ("POST", rf"{ACCOUNT}/listKeys", list_keys),
    ("GET", rf"{RG}/providers/Microsoft\.Batch/batchAccounts", list_in_group),
    ("GET", rf"{SUB}/providers/Microsoft\.Batch/batchAccounts", list_in_subscription),
]
