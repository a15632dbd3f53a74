"""The emulated tenant: one confidential client (service principal) with a secret, a certificate and a
federated credential.
"""

from __future__ import annotations

import hmac

from azure_emulator.auth import TOKEN_LIFETIME_SECONDS
from azure_emulator.entra.assertions import verify_client_assertion
from azure_emulator.errors import AzureError


def known_tenant(backend, tenant: str) -> str:
    if tenant.lower() not in {backend.settings.tenant_id, "organizations"}:
        raise AzureError(
            "invalid_request",
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have "
            "the correct tenant ID and are signing into the correct cloud.",
            extra={"error_codes": [90002]},
        )
    return backend.settings.tenant_id


def openid_configuration(base_url: str, tenant: str) -> dict:
    root = f"{base_url}/{tenant}"
    return {
        "issuer": f"{root}/v2.0",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": "EU",
    }


def client_credentials_token(backend, form: dict[str, str], token_url: str) -> dict:
    """A token for the app, which proves itself with its secret or a client assertion posted to ``token_url``."""
    settings = backend.settings
    grant = form.get("grant_type")
    if not grant:
        raise AzureError(
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
            extra={"error_codes": [900144]},
        )
    if grant != "client_credentials":
        raise AzureError(
            "unsupported_grant_type",
            f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
            extra={"error_codes": [70003]},
        )
    client_id = form.get("client_id", "")
    if client_id.lower() != settings.client_id:
        raise AzureError(
            "unauthorized_client",
            f"AADSTS700016: Application with identifier '{client_id}' was not "
            f"found in the directory '{settings.tenant_id}'.",
            extra={"error_codes": [700016]},
        )
    secret = form.get("client_secret")
    if "client_assertion" in form or "client_assertion_type" in form:
        verify_client_assertion(backend, form, token_url)
    elif not secret:
        raise AzureError(
            "invalid_client",
            "AADSTS7000218: The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
            extra={"error_codes": [7000218]},
        )
    elif not hmac.compare_digest(secret.encode(), settings.client_secret.encode()):
        raise AzureError(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
            "sent in the request is the client secret value, not the client secret ID, for a secret "
            f"added to app '{settings.client_id}'.",
            extra={"error_codes": [7000215]},
        )
    scope = form.get("scope", "")
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise AzureError(
            "invalid_scope",
            f"AADSTS1002012: The provided value for scope {scope} is not valid. Client "
            "credential flows must have a scope value with /.default suffixed to the resource "
            "identifier (application ID URI).",
            extra={"error_codes": [1002012]},
        )
    audience = scopes[0][: -len("/.default")]
    if audience not in backend.cloud.arm_audiences | backend.cloud.batch_audiences:
        raise AzureError(
            "invalid_resource",
            f"AADSTS500011: The resource principal named {audience} was not found "
            f"in the tenant named {settings.tenant_id}.",
            status=400,
            extra={"error_codes": [500011]},
        )
    return {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "ext_expires_in": TOKEN_LIFETIME_SECONDS,
        "access_token": backend.tokens.issue(settings.client_id, audience),
    }
