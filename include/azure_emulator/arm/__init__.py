"""Azure Resource Manager: resource groups, Microsoft.Compute and the bits of Microsoft.Network a VM needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator.arm.models import network, resourcegroups
from azure_emulator.arm.routes import router
from azure_emulator.auth import ARM_AUDIENCES
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call


def seed(backend) -> None:
    """What exists in a new subscription: the resource group and the network the build VMs join."""
    resourcegroups.ensure_default(backend)
    network.ensure_default(backend)


def authenticate(call: Call) -> dict:
    claims = call.backend.tokens.verify(
        call.request.headers.get("authorization"), ARM_AUDIENCES, "Azure Resource Manager"
    )
    subscription = (
        call.request.url.path.split("/")[2] if call.request.url.path.lower().startswith("/subscriptions/") else None
    )
    if subscription is not None and subscription.lower() != call.backend.settings.subscription_id:
        raise AzureError("SubscriptionNotFound", f"The subscription '{subscription}' could not be found.")
    return claims


__all__ = ["router", "seed", "authenticate"]
