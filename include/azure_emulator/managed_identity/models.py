"""The host's user-assigned managed identity and the App Service token protocol (api-version 2019-08-01).

Its tokens come from the same authority as the app's, so ARM and Batch accept them alike; only
``appid`` (the identity's client id) tells them apart.
"""

from __future__ import annotations

import hmac
import time

from azure_emulator.auth import TOKEN_LIFETIME_SECONDS
from azure_emulator.errors import AzureError

API_VERSION = "2019-08-01"


def token(backend, identity_header: str | None, query: dict[str, str]) -> dict:
    settings = backend.settings
    if not identity_header or not hmac.compare_digest(identity_header.encode(), settings.identity_header.encode()):
        raise AzureError(
            "AuthenticationFailed",
            "The X-IDENTITY-HEADER request header is missing or is not this host's IDENTITY_HEADER value.",
        )
    version = query.get("api-version")
    if version != API_VERSION:
        raise AzureError("BadRequest", f"The api-version '{version or ''}' is not supported; use {API_VERSION}.")
    resource = query.get("resource")
    if not resource:
        raise AzureError("BadRequest", "The 'resource' query parameter is required.")
    # Only the user-assigned identity exists: a request without a client id asks for a system-assigned one.
    if query.get("client_id", "").lower() != settings.managed_identity_client_id:
        raise AzureError(
            "BadRequest",
            "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        )
    if resource not in backend.cloud.arm_audiences | backend.cloud.batch_audiences:
        raise AzureError(
            "BadRequest",
            f"AADSTS500011: The resource principal named {resource} was not found in the "
            f"tenant named {settings.tenant_id}.",
        )
    return {
        "access_token": backend.tokens.issue(settings.managed_identity_client_id, resource),
        "expires_on": str(int(time.time()) + TOKEN_LIFETIME_SECONDS),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": settings.managed_identity_client_id,
    }
