"""What an Airflow connection says about reaching Azure, validated before any call.

The connection type is the Azure provider's ``azure`` (login = client id, password = client
secret, extras ``tenantId`` / ``subscriptionId`` / ``cloud_environment`` / ``managed_identity_client_id``
/ ``workload_identity_tenant_id`` as the provider names them), extended with the extras below.
A shared-key Batch connection is the provider's ``azure_batch`` type (login = account name,
password = account key, extra ``account_url``). See the README's "Connections" section for one
example per credential kind.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from imagepool.hooks.clouds import CUSTOM, KNOWN_CLOUDS, Cloud


class CredentialKind(StrEnum):
    CLIENT_SECRET = "client_secret"
    CLIENT_CERTIFICATE = "client_certificate"
    MANAGED_IDENTITY = "managed_identity"
    WORKLOAD_IDENTITY = "workload_identity"
    DEFAULT = "default"
    SHARED_KEY = "shared_key"


class InvalidConnection(ValueError):
    """A connection that cannot work; the message names the connection, the field and the fix."""


class AzureConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    conn_id: str
    client_id: str | None = None
    client_secret: SecretStr | None = None
    tenant_id: str | None = Field(None, alias="tenantId")
    subscription_id: str | None = Field(None, alias="subscriptionId")
    resource_group: str | None = None
    cloud_environment: str = "AzurePublicCloud"
    auth: CredentialKind | None = None
    client_certificate_path: str | None = None
    client_certificate_password: SecretStr | None = None
    managed_identity_client_id: str | None = None
    workload_identity_tenant_id: str | None = None
    federated_token_file: str | None = None
    # custom clouds (and the local emulator): endpoints and the CA that signs them
    arm_endpoint: str | None = None
    arm_scope: str | None = None
    authority_host: str | None = None
    batch_scope: str | None = None
    portal_url: str | None = None
    batch_endpoint_template: str | None = None
    ca_bundle: str | None = None
    batch_account_url: str | None = Field(None, alias="account_url")
    batch_account_name: str | None = None
    batch_account_key: SecretStr | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AzureConnection:
        if self.cloud_environment != CUSTOM and self.cloud_environment not in KNOWN_CLOUDS:
            raise ValueError(
                f"cloud_environment {self.cloud_environment!r} is unknown: use one of "
                f"{', '.join([*KNOWN_CLOUDS, CUSTOM])}"
            )
        if self.cloud_environment == CUSTOM and not (self.arm_endpoint and self.authority_host):
            raise ValueError("cloud_environment 'Custom' needs extras 'arm_endpoint' and 'authority_host'")
        kind = self.credential_kind
        needs = {
            CredentialKind.CLIENT_SECRET: ("tenant_id", "client_id", "client_secret"),
            CredentialKind.CLIENT_CERTIFICATE: ("tenant_id", "client_id", "client_certificate_path"),
            CredentialKind.WORKLOAD_IDENTITY: ("client_id", "federated_token_file"),
            CredentialKind.SHARED_KEY: ("batch_account_name", "batch_account_key", "batch_account_url"),
        }.get(kind, ())
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(f"credential kind '{kind.value}' needs {', '.join(missing)}")
        return self

    @property
    def credential_kind(self) -> CredentialKind:
        if self.auth:
            return self.auth
        if self.batch_account_key:
            return CredentialKind.SHARED_KEY
        if self.client_certificate_path:
            return CredentialKind.CLIENT_CERTIFICATE
        if self.client_secret:
            return CredentialKind.CLIENT_SECRET
        if self.federated_token_file:
            return CredentialKind.WORKLOAD_IDENTITY
        if self.managed_identity_client_id:
            return CredentialKind.MANAGED_IDENTITY
        return CredentialKind.DEFAULT

    @property
    def cloud(self) -> Cloud:
        base = KNOWN_CLOUDS.get(self.cloud_environment, KNOWN_CLOUDS["AzurePublicCloud"])
        return base.with_overrides(
            name=self.cloud_environment,
            arm_endpoint=self.arm_endpoint,
            arm_scope=self.arm_scope,
            authority_host=self.authority_host,
            batch_scope=self.batch_scope,
            portal_url=self.portal_url,
            batch_endpoint_template=self.batch_endpoint_template,
            ca_bundle=self.ca_bundle,
        )

    @property
    def is_custom_cloud(self) -> bool:
        return self.cloud_environment == CUSTOM

    def require(self, *fields: str) -> None:
        """Fail before any call when an operation needs a field this connection lacks."""
        missing = [f for f in fields if not getattr(self, f)]
        if missing:
            hints = {
                "subscription_id": "extra 'subscriptionId'",
                "batch_account_url": "extra 'batch_account_url'",
                "resource_group": "extra 'resource_group' (or the operator's resource_group_name)",
            }
            raise InvalidConnection(
                f"Connection '{self.conn_id}' has no {', '.join(hints.get(f, f) for f in missing)}; "
                "add it to the connection."
            )


def parse_connection(conn: Any) -> AzureConnection:
    """Build the validated settings from an Airflow ``Connection``; errors name the field and the fix."""
    extra = dict(conn.extra_dejson or {})
    fields: dict[str, Any] = {"conn_id": conn.conn_id}
    if getattr(conn, "conn_type", None) == "azure_batch":
        # The provider's Batch connection: login/password are the account name and key (SharedKey).
        if conn.login or conn.password:
            fields.update(batch_account_name=conn.login, batch_account_key=conn.password)
    else:
        fields.update(client_id=conn.login or None, client_secret=conn.password or None)
    for legacy in [k for k in extra if k.startswith("extra__azure")]:
        extra.setdefault(legacy.rsplit("__", 1)[-1], extra.pop(legacy))
    try:
        return AzureConnection(**fields, **{k: v for k, v in extra.items() if v not in (None, "")})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'connection'}: {e['msg']}" for e in exc.errors())
        raise InvalidConnection(
            f"Connection '{conn.conn_id}' is not usable: {problems}. Fix the connection's "
            "login/password or extra fields (see the README's Connections section)."
        ) from None
