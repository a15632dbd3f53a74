"""Azure Resource Manager: subscriptions, tenants, locations, resource groups, Microsoft.Compute, the bits of
Microsoft.Network a VM needs, Microsoft.Batch accounts, and ARM's cloud metadata endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator.arm.models import network, resourcegroups
from azure_emulator.arm.routes import UNAUTHENTICATED, router
from azure_emulator.auth import add_challenge
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call


def seed(backend) -> None:
    """What exists in a new subscription: the resource group and the network the build VMs join."""
    resourcegroups.ensure_default(backend)
    network.ensure_default(backend)


def authenticate(call: Call) -> dict:
    path = call.request.url.path
    if path.lower().rstrip("/") in UNAUTHENTICATED:
        return {}
    try:
        claims = call.backend.tokens.verify(
            call.request.headers.get("authorization"), call.backend.cloud.arm_audiences, "Azure Resource Manager"
        )
    except AzureError as err:
        # Every 401 names the authority that issues this cloud's tokens: the emulator's own.
        raise add_challenge(err, f"{call.base_url}/{call.backend.settings.tenant_id}") from None
    subscription = path.split("/")[2] if path.lower().startswith("/subscriptions/") else None
    if subscription is not None and subscription.lower() != call.backend.settings.subscription_id:
        raise AzureError("SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
    return claims


__all__ = ["router", "seed", "authenticate"]
