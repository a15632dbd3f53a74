"""azure-identity credentials (sync and aio) for a connection's credential kind and cloud."""

from __future__ import annotations

import importlib
from typing import Any

from imagepool.hooks.connection import AzureConnection, CredentialKind


def _common(conn: AzureConnection) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"authority": conn.cloud.authority_host}
    if conn.is_custom_cloud:
        # A custom authority is not in Microsoft's instance-discovery list; MSAL would otherwise ask
        # login.microsoftonline.com about it and fail.
        kwargs["disable_instance_discovery"] = True
    if conn.cloud.ca_bundle:
        kwargs["connection_verify"] = conn.cloud.ca_bundle
    return kwargs


def identity_module(aio: bool):
    """azure-identity's credentials, or their aio variants (imported on first use)."""
    return importlib.import_module("azure.identity.aio" if aio else "azure.identity")


def build_credential(conn: AzureConnection, *, aio: bool = False):
    """A token credential for ``conn``; the aio variant for triggers and async hooks."""
    identity = identity_module(aio)
    kind = conn.credential_kind
    common = _common(conn)
    secret = conn.client_secret.get_secret_value() if conn.client_secret else None
    if kind is CredentialKind.CLIENT_SECRET:
        return identity.ClientSecretCredential(conn.tenant_id, conn.client_id, secret, **common)
    if kind is CredentialKind.CLIENT_CERTIFICATE:
        password = conn.client_certificate_password.get_secret_value() if conn.client_certificate_password else None
        return identity.CertificateCredential(
            conn.tenant_id, conn.client_id, conn.client_certificate_path, password=password, **common
        )
    if kind is CredentialKind.WORKLOAD_IDENTITY:
        return identity.WorkloadIdentityCredential(
            tenant_id=conn.workload_identity_tenant_id or conn.tenant_id,
            client_id=conn.client_id,
            token_file_path=conn.federated_token_file,
            **common,
        )
    if kind is CredentialKind.MANAGED_IDENTITY:
        # Passed through explicitly: the provider's helper drops the client id of a user-assigned identity.
        extra = {"connection_verify": common["connection_verify"]} if "connection_verify" in common else {}
        return identity.ManagedIdentityCredential(client_id=conn.managed_identity_client_id, **extra)
    if kind is CredentialKind.DEFAULT:
        # Only the ids the connection names: for the rest DefaultAzureCredential reads AZURE_CLIENT_ID /
        # AZURE_TENANT_ID, which an explicit None would switch off (a managed identity would become system-assigned).
        ids = {
            "managed_identity_client_id": conn.managed_identity_client_id,
            "workload_identity_client_id": conn.client_id,
            "workload_identity_tenant_id": conn.workload_identity_tenant_id or conn.tenant_id,
        }
        return identity.DefaultAzureCredential(**{name: value for name, value in ids.items() if value}, **common)
    raise ValueError(f"connection '{conn.conn_id}' uses a Batch shared key, which is not an Entra ID credential")
