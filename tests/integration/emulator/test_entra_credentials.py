"""The emulated app's other credentials: its client certificate, its federated credential (workload
identity) and the host's App Service-style managed identity, through azure-identity and on the wire.
"""

from __future__ import annotations

import base64
import datetime
import json
import stat
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from azure.identity import (
    CertificateCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
    aio as identity_aio,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.integration import clients
from tests.integration.clients import StaticToken
from tests.integration.emulator.wire import assert_oauth_error

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPES = ["arm_scope", "batch_scope"]


# --- what the credentials need, and proof that ARM and Batch take their tokens -----------------------


def app_key(info):
    return serialization.load_pem_private_key(Path(info["client_certificate_path"]).read_bytes(), None)


def app_certificate(info) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(info["client_certificate_path"]).read_bytes())


def federation_key(info):
    return serialization.load_pem_private_key(
        (Path(info["data_dir"]) / "federation-signing-key.pem").read_bytes(), None
    )


def federated_claims(info) -> dict:
    return jwt.decode(Path(info["federated_token_file"]).read_text(), options={"verify_signature": False})


def authority_args(info) -> dict:
    return {
        "authority": info["authority_host"],
        "disable_instance_discovery": True,
        "connection_verify": info["ca_bundle"],
    }


def assert_accepted(info, token: str, scope_key: str, client_id: str) -> None:
    """The token names the identity, and the API of its audience serves a real call with it."""
    assert jwt.decode(token, options={"verify_signature": False})["appid"] == client_id
    if scope_key == "arm_scope":
        with clients.resources(info, StaticToken(token)) as resources:
            assert resources.resource_groups.get(info["resource_group"]).name == info["resource_group"]
    else:
        with clients.batch(info, StaticToken(token)) as batch:
            assert any(image.node_agent_sku_id for image in batch.list_supported_images())


@pytest.fixture
def managed_identity_host(info, monkeypatch):
    """The environment App Service gives a process whose site has the managed identity assigned."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", info["identity_endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", info["identity_header"])


def test_ready_file_hands_out_the_credentials(info):
    pem = Path(info["client_certificate_path"])
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert b"BEGIN CERTIFICATE" in pem.read_bytes()
    assert b"PRIVATE KEY" in pem.read_bytes()
    assert app_key(info).public_key().public_numbers() == app_certificate(info).public_key().public_numbers()
    claims = federated_claims(info)
    assert claims["sub"] == "system:serviceaccount:airflow:imagepool"
    assert claims["aud"] == ["api://AzureADTokenExchange"]
    assert claims["iss"].startswith("https://")
    assert claims["exp"] > time.time() + 30 * 24 * 3600
    assert stat.S_IMODE(Path(info["federated_token_file"]).stat().st_mode) == 0o600
    assert info["identity_endpoint"] == f"{info['authority_host']}/msi/token"
    assert info["managed_identity_client_id"] != info["client_id"]
    assert len(info["identity_header"]) >= 32


# --- certificate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope_key", SCOPES)
def test_certificate_credential_gets_accepted_tokens(info, scope_key):
    credential = CertificateCredential(
        info["tenant_id"], info["client_id"], info["client_certificate_path"], **authority_args(info)
    )
    assert_accepted(info, credential.get_token(info[scope_key]).token, scope_key, info["client_id"])


@pytest.mark.parametrize("scope_key", SCOPES)
async def test_async_certificate_credential_gets_accepted_tokens(info, scope_key):
    # The aio credential signs PS256 with x5t#S256, the sync one (MSAL) RS256 with x5t: both are Entra's.
    async with identity_aio.CertificateCredential(
        info["tenant_id"], info["client_id"], info["client_certificate_path"], **authority_args(info)
    ) as cred:
        token = (await cred.get_token(info[scope_key])).token
    assert_accepted(info, token, scope_key, info["client_id"])


def token_url(info, tenant: str | None = None) -> str:
    return f"{info['authority_host']}/{tenant or info['tenant_id']}/oauth2/v2.0/token"


def certificate_assertion(info, *, key=None, certificate=None, algorithm: str = "RS256", **claims) -> str:
    """An assertion as MSAL builds it, with ``claims`` changed; signed by ``key`` with ``certificate``'s thumbprint."""
    certificate = certificate or app_certificate(info)
    now = int(time.time())
    body = {
        "aud": token_url(info),
        "iss": info["client_id"],
        "sub": info["client_id"],
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **claims,
    }
    x5t = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).decode()
    return jwt.encode(body, key or app_key(info), algorithm=algorithm, headers={"x5t": x5t})


def foreign_certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-the-app")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def assertion_request(
    info, assertion: str | None, assertion_type: str | None = JWT_BEARER, client_id: str | None = None
) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id or info["client_id"],
        "scope": info["arm_scope"],
        "client_assertion": assertion,
        "client_assertion_type": assertion_type,
    }
    return requests.post(
        token_url(info), data={k: v for k, v in form.items() if v}, verify=info["ca_bundle"], timeout=10
    )


def test_token_endpoint_accepts_a_certificate_assertion(info):
    response = assertion_request(info, certificate_assertion(info))
    assert response.status_code == 200, response.text
    assert_accepted(info, response.json()["access_token"], "arm_scope", info["client_id"])


def test_certificate_not_registered_on_the_app(info):
    key, certificate = foreign_certificate()
    body = assert_oauth_error(
        assertion_request(info, certificate_assertion(info, key=key, certificate=certificate)),
        401,
        "invalid_client",
        700027,
    )
    assert "The key was not found" in body["error_description"]
    assert certificate.fingerprint(hashes.SHA1()).hex().upper() in body["error_description"]


def test_registered_thumbprint_with_another_key(info):
    tampered = certificate_assertion(info, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    body = assert_oauth_error(assertion_request(info, tampered), 401, "invalid_client", 700027)
    assert "did not match the expected signature" in body["error_description"]


@pytest.mark.parametrize(
    ("claims", "aadsts"),
    [
        pytest.param({"sub": "0badc0de-0000-4000-8000-000000000000"}, 700021, id="subject-not-the-client"),
        pytest.param(
            {"aud": "https://login.microsoftonline.com/common/oauth2/v2.0/token"}, 700023, id="other-audience"
        ),
        pytest.param(
            {"iat": int(time.time()) - 7200, "nbf": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
            700024,
            id="expired",
        ),
        pytest.param({"nbf": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, 700024, id="not-yet-valid"),
    ],
)
def test_certificate_assertion_with_wrong_claims(info, claims, aadsts):
    assert_oauth_error(assertion_request(info, certificate_assertion(info, **claims)), 401, "invalid_client", aadsts)


def test_assertion_for_another_client_id(info):
    """The form names an app the tenant does not have: Entra stops there, before the assertion."""
    assert_oauth_error(
        assertion_request(info, certificate_assertion(info), client_id=str(uuid.uuid4())),
        400,
        "unauthorized_client",
        700016,
    )


@pytest.mark.parametrize(
    ("make_assertion", "assertion_type", "aadsts"),
    [
        pytest.param(lambda info: "not-a-jwt", JWT_BEARER, 50027, id="malformed"),
        pytest.param(certificate_assertion, None, 90014, id="no-assertion-type"),
        pytest.param(lambda info: None, JWT_BEARER, 90014, id="no-assertion"),
    ],
)
def test_unusable_assertion_requests(info, make_assertion, assertion_type, aadsts):
    assert_oauth_error(assertion_request(info, make_assertion(info), assertion_type), 400, "invalid_request", aadsts)


# --- workload identity (federated credential) ------------------------------------------------------------


def workload_args(info) -> dict:
    return {
        "tenant_id": info["tenant_id"],
        "client_id": info["client_id"],
        "token_file_path": info["federated_token_file"],
        **authority_args(info),
    }


@pytest.mark.parametrize("scope_key", SCOPES)
def test_workload_identity_credential_gets_accepted_tokens(info, scope_key):
    token = WorkloadIdentityCredential(**workload_args(info)).get_token(info[scope_key]).token
    assert_accepted(info, token, scope_key, info["client_id"])


@pytest.mark.parametrize("scope_key", SCOPES)
async def test_async_workload_identity_credential_gets_accepted_tokens(info, scope_key):
    async with identity_aio.WorkloadIdentityCredential(**workload_args(info)) as credential:
        token = (await credential.get_token(info[scope_key])).token
    assert_accepted(info, token, scope_key, info["client_id"])


def federated_token(info, *, key=None, **claims) -> str:
    return jwt.encode({**federated_claims(info), **claims}, key or federation_key(info), algorithm="RS256")


@pytest.mark.parametrize(
    ("claims", "aadsts"),
    [
        pytest.param({"sub": "system:serviceaccount:default:other"}, 70021, id="other-service-account"),
        pytest.param({"aud": ["api://SomethingElse"]}, 70021, id="other-audience"),
        pytest.param({"iss": "https://token.actions.githubusercontent.com"}, 700211, id="unknown-issuer"),
        pytest.param(
            {"iat": int(time.time()) - 7200, "nbf": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
            700024,
            id="expired",
        ),
    ],
)
def test_federated_token_that_matches_no_federated_credential(info, claims, aadsts):
    body = assert_oauth_error(assertion_request(info, federated_token(info, **claims)), 401, "invalid_client", aadsts)
    if aadsts == 70021:
        assert f"Assertion Subject: '{claims.get('sub', federated_claims(info)['sub'])}'" in body["error_description"]


def test_federated_token_signed_by_another_key(info):
    forged = federated_token(info, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert_oauth_error(assertion_request(info, forged), 401, "invalid_client", 700027)


def test_federated_token_refused_through_the_sdk(info, tmp_path):
    """What a pod bound to the wrong service account sees."""
    token_file = tmp_path / "token"
    token_file.write_text(federated_token(info, sub="system:serviceaccount:default:other"))
    credential = WorkloadIdentityCredential(**{**workload_args(info), "token_file_path": str(token_file)})
    with pytest.raises(Exception, match="AADSTS70021"):
        credential.get_token(info["arm_scope"])


# --- managed identity (App Service protocol) -------------------------------------------------------------


@pytest.mark.parametrize("scope_key", SCOPES)
def test_managed_identity_credential_gets_accepted_tokens(info, managed_identity_host, scope_key):
    credential = ManagedIdentityCredential(
        client_id=info["managed_identity_client_id"], connection_verify=info["ca_bundle"]
    )
    token = credential.get_token(info[scope_key]).token
    assert_accepted(info, token, scope_key, info["managed_identity_client_id"])


@pytest.mark.parametrize("scope_key", SCOPES)
async def test_async_managed_identity_credential_gets_accepted_tokens(info, managed_identity_host, scope_key):
    async with identity_aio.ManagedIdentityCredential(
        client_id=info["managed_identity_client_id"], connection_verify=info["ca_bundle"]
    ) as credential:
        token = (await credential.get_token(info[scope_key])).token
    assert_accepted(info, token, scope_key, info["managed_identity_client_id"])


def msi_request(info, *, header: str | None = "right", **params) -> requests.Response:
    query = {
        "api-version": "2019-08-01",
        "resource": "https://management.azure.com",
        "client_id": info["managed_identity_client_id"],
        **params,
    }
    headers = {"X-IDENTITY-HEADER": info["identity_header"] if header == "right" else header} if header else {}
    return requests.get(
        info["identity_endpoint"],
        params={k: v for k, v in query.items() if v is not None},
        headers=headers,
        verify=info["ca_bundle"],
        timeout=10,
    )


def test_managed_identity_endpoint_success_shape(info):
    response = msi_request(info)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resource"] == "https://management.azure.com"
    assert body["token_type"] == "Bearer"
    assert body["client_id"] == info["managed_identity_client_id"]
    # App Service sends expires_on as a string of epoch seconds.
    assert isinstance(body["expires_on"], str)
    assert int(body["expires_on"]) > time.time() + 3000
    assert_accepted(info, body["access_token"], "arm_scope", info["managed_identity_client_id"])


@pytest.mark.parametrize(
    ("request_args", "status", "says"),
    [
        pytest.param({"header": "not-the-header"}, 401, "X-IDENTITY-HEADER", id="wrong-header"),
        pytest.param({"header": None}, 401, "X-IDENTITY-HEADER", id="no-header"),
        pytest.param(
            {"client_id": str(uuid.uuid4())},
            400,
            "No User Assigned or Delegated Managed Identity",
            id="unknown-client-id",
        ),
        pytest.param({"client_id": None}, 400, "No User Assigned or Delegated Managed Identity", id="system-assigned"),
        pytest.param({"api-version": "2017-09-01"}, 400, "api-version", id="old-api-version"),
        pytest.param({"resource": None}, 400, "resource", id="no-resource"),
        pytest.param({"resource": "https://vault.azure.net"}, 400, "AADSTS500011", id="unknown-resource"),
    ],
)
def test_managed_identity_endpoint_errors(info, request_args, status, says):
    response = msi_request(info, **request_args)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert says in body["message"]
    assert body["correlationId"]
    assert "access_token" not in body
    assert response.headers.get("x-ms-request-id")


def test_managed_identity_with_wrong_header_through_the_sdk(info, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", info["identity_endpoint"])
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-header")
    credential = ManagedIdentityCredential(
        client_id=info["managed_identity_client_id"], connection_verify=info["ca_bundle"]
    )
    with pytest.raises(Exception, match="X-IDENTITY-HEADER"):
        credential.get_token(info["arm_scope"])


# --- secrets stay out of the logs ----------------------------------------------------------------------------


def test_no_credential_reaches_the_request_log_or_the_emulator_log(info, control, emulator_log, managed_identity_host):
    since = control.get("/requests").json()["summary"]["last_id"]
    assertion = certificate_assertion(info)
    federated = Path(info["federated_token_file"]).read_text()
    assert assertion_request(info, assertion).status_code == 200
    assert assertion_request(info, federated).status_code == 200
    assert assertion_request(info, federated_token(info, sub="someone-else")).status_code == 401
    assert msi_request(info).status_code == 200
    assert msi_request(info, header="a-guessed-header").status_code == 401
    ManagedIdentityCredential(
        client_id=info["managed_identity_client_id"], connection_verify=info["ca_bundle"]
    ).get_token(info["batch_scope"])
    logged = json.dumps(control.get("/requests", params={"since": since}).json())
    assert "/msi/token" in logged
    assert "/oauth2/v2.0/token" in logged
    written = emulator_log.assert_clean()
    secrets = [
        info["identity_header"],
        info["client_secret"],
        "a-guessed-header",
        assertion,
        federated,
        assertion.split(".")[2],
        federated.split(".")[2],
    ]
    for secret in secrets:
        assert secret not in logged
        assert secret not in written
