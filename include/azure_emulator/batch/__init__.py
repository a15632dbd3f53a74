"""The Azure Batch data plane, one account per path prefix: ``/batch/{account}/...``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator import batchaccounts
from azure_emulator.auth import add_challenge, verify_shared_key
from azure_emulator.batch.routes import router
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call


def authenticate(call: Call) -> dict:
    """Entra bearer tokens (Batch audience) or the account's SharedKey signature."""
    parts = call.request.url.path.split("/")
    account = batchaccounts.find(call.backend, parts[2]) if len(parts) > 2 else None
    if account is None:
        # Batch's own code for "no such resource"; a real client would fail earlier, on the account's DNS name.
        raise AzureError(
            "ResourceNotFound",
            f"The specified resource does not exist: there is no Batch account '{parts[2] if len(parts) > 2 else ''}'.",
        )
    authorization = call.request.headers.get("authorization", "")
    if authorization.startswith("SharedKey "):
        _mode_allowed(account, "SharedKey")
        raw_path = call.request.scope.get("raw_path", call.request.url.path.encode()).decode()
        verify_shared_key(
            authorization,
            account.name,
            account.key,
            call.method,
            raw_path,
            call.request.url.query,
            dict(call.request.headers),
        )
        return {"auth": "sharedkey", "account": account.name}
    try:
        claims = call.backend.tokens.verify(authorization or None, call.backend.cloud.batch_audiences, "Azure Batch")
    except AzureError as err:
        raise add_challenge(err, f"{call.base_url}/{call.backend.settings.tenant_id}") from None
    _mode_allowed(account, "AAD")
    return {"auth": "bearer", "account": account.name, "claims": claims}


def _mode_allowed(account, mode: str) -> None:
    """The account's ``allowedAuthenticationModes`` (its ARM resource) decide which credentials it takes."""
    if mode not in account.allowed_authentication_modes:
        raise AzureError(
            "AuthenticationFailed",
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
            "correctly including the signature.",
            status=403,
            values=[
                (
                    "AuthenticationErrorDetail",
                    f"The authentication mode {mode} is not allowed for account '{account.name}' (its "
                    f"allowedAuthenticationModes are {', '.join(account.allowed_authentication_modes)}).",
                )
            ],
        )


__all__ = ["router", "authenticate"]
