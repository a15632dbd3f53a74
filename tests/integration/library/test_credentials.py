"""Every credential kind an ``azure`` connection supports, end to end: the connection as an
``AIRFLOW_CONN_*`` variable -> the ARM and Batch hooks -> real calls to the emulator, sync and aio,
and the hooks' ``test_connection`` for the Airflow UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from imagepool.hooks.arm import ArmHook
from imagepool.hooks.batch import BatchHook
from imagepool_local.emulator import airflow_connection


@dataclass
class Kind:
    """A credential kind as a user sets it up: the connection's login/password/extras and the process environment."""

    name: str
    login: str | None = None
    password: str | None = None
    extra: dict = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    env: dict = field(default_factory=dict)
    identity: str = "client_id"


KINDS = [
    Kind("client_secret", login="client_id", password="client_secret"),
    Kind("client_certificate", login="client_id", extra={"client_certificate_path": "client_certificate_path"}),
    Kind("workload_identity", login="client_id", extra={"federated_token_file": "federated_token_file"}),
    # App Service sets IDENTITY_ENDPOINT / IDENTITY_HEADER for the process; the connection names the identity.
    Kind(
        "managed_identity",
        extra={"managed_identity_client_id": "managed_identity_client_id"},
        env={"IDENTITY_ENDPOINT": "identity_endpoint", "IDENTITY_HEADER": "identity_header"},
        identity="managed_identity_client_id",
    ),
    # Nothing in the connection but the cloud: DefaultAzureCredential finds workload identity in the
    # environment an AKS pod gets.
    Kind(
        "default",
        drop=("tenantId",),
        env={
            "AZURE_CLIENT_ID": "client_id",
            "AZURE_TENANT_ID": "tenant_id",
            "AZURE_FEDERATED_TOKEN_FILE": "federated_token_file",
            "AZURE_AUTHORITY_HOST": "authority_host",
        },
    ),
    # ... or the user-assigned managed identity AZURE_CLIENT_ID names, on an App Service host.
    Kind(
        "default_managed_identity",
        drop=("tenantId",),
        env={
            "AZURE_CLIENT_ID": "managed_identity_client_id",
            "IDENTITY_ENDPOINT": "identity_endpoint",
            "IDENTITY_HEADER": "identity_header",
        },
        identity="managed_identity_client_id",
    ),
]


def connection(info, *, login: str | None, password: str | None, extra: dict, drop=()) -> dict:
    """The emulator's ``azure`` connection (a custom cloud with its CA) with another credential."""
    found = airflow_connection(info)
    found["extra"] = {k: v for k, v in {**found["extra"], **extra}.items() if k not in drop}
    found.update(login=login, password=password)
    return {k: v for k, v in found.items() if v is not None}


@pytest.fixture
def use(info, monkeypatch):
    """Define connection ``conn_id`` for ``kind`` through its environment variable, and the kind's environment."""

    def define(kind: Kind, conn_id: str, **changes) -> str:
        fields = {
            "login": info.get(kind.login),
            "password": info.get(kind.password),
            "extra": {k: info[v] for k, v in kind.extra.items()},
            "drop": kind.drop,
            **changes,
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection(info, **fields)))
        for name, key in kind.env.items():
            monkeypatch.setenv(name, info[key])
        return conn_id

    return define


def appid(hook, scope: str) -> str:
    """Who the hook's credential authenticates as: the ``appid`` of the token it presents."""
    return jwt.decode(hook.credential.get_token(scope).token, options={"verify_signature": False})["appid"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_sync_hooks_call_arm_and_batch(info, use, kind):
    conn_id = use(kind, f"imagepool_{kind.name}")
    arm = ArmHook(conn_id)
    galleries = list(arm.get_conn().galleries.list_by_resource_group(info["resource_group"]))
    assert isinstance(galleries, list)
    batch = BatchHook(conn_id)
    assert "linux" in batch.supported_node_agent_skus().values()
    assert appid(arm, info["arm_scope"]) == appid(batch, info["batch_scope"]) == info[kind.identity]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
async def test_async_hooks_call_arm_and_batch(info, use, kind):
    conn_id = use(kind, f"imagepool_{kind.name}")
    async with ArmHook(conn_id) as arm:
        client = await arm.get_async_conn()
        assert isinstance([gallery async for gallery in client.galleries.list()], list)
    async with BatchHook(conn_id) as batch:
        client = await batch.get_async_conn()
        assert any([image.node_agent_sku_id async for image in client.list_supported_images()])


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_connection_test_succeeds(use, kind):
    conn_id = use(kind, f"imagepool_{kind.name}")
    ok, message = ArmHook(conn_id).test_connection()
    assert ok, message
    assert "Connected to Azure Resource Manager (Custom)" in message
    ok, message = BatchHook(conn_id).test_connection()
    assert ok, message
    assert message.startswith("Connected to Azure Batch account")


# --- what fails, and how it reads in the UI -------------------------------------------------------------


def assert_refused(conn_id: str, *expected: str) -> None:
    """Both hooks' tests fail (never raise), and their messages say why."""
    for hook in (ArmHook(conn_id), BatchHook(conn_id)):
        ok, message = hook.test_connection()
        assert not ok
        for text in expected:
            assert text in message, message


SECRET, CERTIFICATE, MANAGED = KINDS[0], KINDS[1], KINDS[3]


def test_wrong_secret(use):
    assert_refused(use(SECRET, "imagepool_wrong_secret", password="not-the-secret"), "AADSTS7000215")


def write_pem(path: Path, certificate: bytes, key) -> str:
    path.write_bytes(
        certificate
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(path)


def test_tampered_certificate(info, use, tmp_path):
    """The app's certificate with another private key: the thumbprint is registered, the signature is not its."""
    pem = Path(info["client_certificate_path"]).read_bytes()
    certificate = pem[: pem.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = write_pem(tmp_path / "tampered.pem", certificate, other_key)
    extra = {"client_certificate_path": path}
    assert_refused(use(CERTIFICATE, "imagepool_tampered_cert", extra=extra), "AADSTS700027", "signature")


def test_missing_certificate_file(use, tmp_path):
    extra = {"client_certificate_path": str(tmp_path / "absent.pem")}
    assert_refused(use(CERTIFICATE, "imagepool_absent_cert", extra=extra), "absent.pem")


def test_wrong_identity_header(info, use, monkeypatch):
    conn_id = use(MANAGED, "imagepool_wrong_header")
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-header")
    assert_refused(conn_id, "X-IDENTITY-HEADER")


def test_unknown_managed_identity(use):
    conn_id = use(
        MANAGED,
        "imagepool_unknown_identity",
        extra={"managed_identity_client_id": "0badc0de-0000-4000-8000-000000000000"},
    )
    assert_refused(conn_id, "No User Assigned or Delegated Managed Identity")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"extra": {"auth": "client_certificate"}}, "needs client_certificate_path", id="certificate-path"),
        pytest.param({"drop": ("tenantId",)}, "needs tenant_id", id="tenant"),
    ],
)
def test_missing_credential_fields(use, changes, expected):
    assert_refused(use(SECRET, f"imagepool_missing_{expected.split()[-1]}", **changes), expected, "Fix the connection")


def test_missing_endpoints_are_named(use):
    conn_id = use(SECRET, "imagepool_no_endpoints", drop=("subscriptionId", "batch_account_url"))
    ok, message = ArmHook(conn_id).test_connection()
    assert not ok
    assert "subscriptionId" in message
    ok, message = BatchHook(conn_id).test_connection()
    assert not ok
    assert "batch_account_url" in message
