"""The Azure Batch data plane, one account per path prefix: ``/batch/{account}/...``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure_emulator.auth import BATCH_AUDIENCES, verify_shared_key
from azure_emulator.batch.routes import router
from azure_emulator.errors import AzureError

if TYPE_CHECKING:
    from azure_emulator.routing import Call


def authenticate(call: Call) -> dict:
    """Entra bearer tokens (Batch audience) or the account's SharedKey signature."""
    parts = call.request.url.path.split("/")
    account = call.backend.settings.batch_account(parts[2]) if len(parts) > 2 else None
    if account is None:
        # Batch's own code for "no such resource"; a real client would fail earlier, on the account's DNS name.
        raise AzureError(
            "ResourceNotFound",
            f"The specified resource does not exist: there is no Batch account '{parts[2] if len(parts) > 2 else ''}'.",
        )
    authorization = call.request.headers.get("authorization", "")
    if authorization.startswith("SharedKey "):
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
    claims = call.backend.tokens.verify(authorization or None, BATCH_AUDIENCES, "Azure Batch")
    return {"auth": "bearer", "account": account.name, "claims": claims}


__all__ = ["router", "authenticate"]
