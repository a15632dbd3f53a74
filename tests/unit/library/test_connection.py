"""Connection settings: credential kinds, clouds, and errors that name the field and the fix."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from azure.identity import (
    ClientSecretCredential,
    DefaultAzureCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
    aio as identity_aio,
)

from imagepool.hooks.clouds import CHINA, PUBLIC, US_GOVERNMENT
from imagepool.hooks.connection import CredentialKind, InvalidConnection, parse_connection
from imagepool.hooks.credentials import build_credential


@dataclass
class Conn:
    conn_id: str = "azure_test"
    conn_type: str = "azure"
    login: str | None = None
    password: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def extra_dejson(self):
        return json.loads(json.dumps(self.extra))


TENANT = "11111111-1111-1111-1111-111111111111"
SUB = "22222222-2222-2222-2222-222222222222"


def test_service_principal_secret_on_public_cloud():
    conn = parse_connection(Conn(login="app", password="s3cret", extra={"tenantId": TENANT, "subscriptionId": SUB}))
    assert conn.credential_kind is CredentialKind.CLIENT_SECRET
    assert conn.cloud == PUBLIC
    assert "s3cret" not in repr(conn)
    credential = build_credential(conn)
    assert isinstance(credential, ClientSecretCredential)


@pytest.mark.parametrize(("name", "cloud"), [("AzureUSGovernment", US_GOVERNMENT), ("AzureChinaCloud", CHINA)])
def test_sovereign_clouds(name, cloud):
    conn = parse_connection(Conn(login="app", password="x", extra={"tenantId": TENANT, "cloud_environment": name}))
    assert conn.cloud == cloud
    assert conn.cloud.batch_scope.endswith("//.default")


def test_certificate_kind(tmp_path):
    conn = parse_connection(Conn(login="app", extra={"tenantId": TENANT, "client_certificate_path": str(tmp_path)}))
    assert conn.credential_kind is CredentialKind.CLIENT_CERTIFICATE


def test_managed_identity_keeps_client_id():
    conn = parse_connection(Conn(extra={"managed_identity_client_id": "mi-client"}))
    assert conn.credential_kind is CredentialKind.MANAGED_IDENTITY
    credential = build_credential(conn)
    assert isinstance(credential, ManagedIdentityCredential)
    # The upstream provider helper loses this id; ours must hand it to azure-identity.
    assert "mi-client" in repr(vars(credential._credential))


def test_workload_identity(tmp_path):
    token = tmp_path / "token"
    token.write_text("jwt")
    conn = parse_connection(Conn(login="app", extra={"tenantId": TENANT, "federated_token_file": str(token)}))
    assert conn.credential_kind is CredentialKind.WORKLOAD_IDENTITY
    assert isinstance(build_credential(conn), WorkloadIdentityCredential)


def test_default_credential_when_nothing_given():
    conn = parse_connection(Conn(extra={"subscriptionId": SUB}))
    assert conn.credential_kind is CredentialKind.DEFAULT
    assert isinstance(build_credential(conn), DefaultAzureCredential)
    assert isinstance(build_credential(conn, aio=True), identity_aio.DefaultAzureCredential)


def test_custom_cloud_needs_endpoints_and_sets_trust():
    with pytest.raises(InvalidConnection) as err:
        parse_connection(Conn(login="a", password="b", extra={"tenantId": TENANT, "cloud_environment": "Custom"}))
    assert "arm_endpoint" in str(err.value)
    assert "azure_test" in str(err.value)
    conn = parse_connection(
        Conn(
            login="a",
            password="b",
            extra={
                "tenantId": TENANT,
                "cloud_environment": "Custom",
                "arm_endpoint": "https://127.0.0.1:1/",
                "authority_host": "https://127.0.0.1:1",
                "ca_bundle": "/ca.pem",
            },
        )
    )
    assert conn.cloud.arm_endpoint == "https://127.0.0.1:1/"
    assert conn.cloud.arm_scope == PUBLIC.arm_scope
    assert conn.cloud.ca_bundle == "/ca.pem"


def test_unknown_cloud_and_unknown_extra_are_named():
    with pytest.raises(InvalidConnection) as err:
        parse_connection(Conn(login="a", password="b", extra={"tenantId": TENANT, "cloud_environment": "Mars"}))
    assert "Mars" in str(err.value)
    assert "AzurePublicCloud" in str(err.value)
    with pytest.raises(InvalidConnection) as err:
        parse_connection(Conn(login="a", password="b", extra={"tenantId": TENANT, "subscriptonId": SUB}))
    assert "subscriptonId" in str(err.value)


def test_secret_without_tenant_is_refused():
    with pytest.raises(InvalidConnection) as err:
        parse_connection(Conn(login="app", password="secret"))
    assert "tenant_id" in str(err.value)


def test_provider_legacy_extra_names_are_accepted():
    conn = parse_connection(Conn(login="a", password="b", extra={"extra__azure__tenantId": TENANT}))
    assert conn.tenant_id == TENANT


def test_batch_shared_key_connection():
    conn = parse_connection(
        Conn(
            conn_type="azure_batch",
            login="acct",
            password="a2V5",
            extra={"account_url": "https://acct.westeurope.batch.azure.com"},
        )
    )
    assert conn.credential_kind is CredentialKind.SHARED_KEY
    assert conn.batch_account_url == "https://acct.westeurope.batch.azure.com"
    with pytest.raises(ValueError, match="shared key"):
        build_credential(conn)


def test_require_names_missing_field():
    conn = parse_connection(Conn(login="a", password="b", extra={"tenantId": TENANT}))
    with pytest.raises(InvalidConnection) as err:
        conn.require("subscription_id")
    assert "subscriptionId" in str(err.value)
