"""Microsoft Entra ID: azure-identity's client-secret credentials (sync and aio) against the emulated tenant."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.emulator.wire import assert_oauth_error

AUDIENCES = {"arm_scope": "https://management.azure.com", "batch_scope": "https://batch.core.windows.net/"}
OTHER_ID = "0badc0de-0000-4000-8000-000000000000"


def credential_args(info, **overrides) -> dict:
    args = dict(
        tenant_id=info["tenant_id"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        authority=info["authority_host"],
        disable_instance_discovery=True,
        connection_verify=info["ca_bundle"],
    )
    args.update(overrides)
    return args


def verified_claims(info, token: str, audience: str) -> dict:
    """Check the token the way a resource server does: keys from the tenant's discovery document."""
    discovery = requests.get(
        f"{info['authority_host']}/{info['tenant_id']}/v2.0/.well-known/openid-configuration",
        verify=info["ca_bundle"],
        timeout=10,
    ).json()
    assert discovery["jwks_uri"] == f"{info['authority_host']}/{info['tenant_id']}/discovery/v2.0/keys"
    keys = jwt.PyJWKSet.from_dict(requests.get(discovery["jwks_uri"], verify=info["ca_bundle"], timeout=10).json())
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    key = next(k for k in keys.keys if k.key_id == header["kid"])
    return jwt.decode(
        token, key.key, algorithms=["RS256"], audience=audience, issuer=f"https://sts.windows.net/{info['tenant_id']}/"
    )


def check_token(info, access_token, scope_key: str) -> None:
    claims = verified_claims(info, access_token.token, AUDIENCES[scope_key])
    assert claims["tid"] == info["tenant_id"]
    assert claims["appid"] == info["client_id"]
    now = time.time()
    assert claims["iat"] <= now + 5
    assert claims["exp"] > now + 3000
    assert abs(access_token.expires_on - claims["exp"]) <= 5


@pytest.mark.parametrize("scope_key", ["arm_scope", "batch_scope"])
def test_sync_credential_gets_a_verifiable_token_for_the_scope(info, scope_key):
    credential = ClientSecretCredential(**credential_args(info))
    check_token(info, credential.get_token(info[scope_key]), scope_key)


@pytest.mark.parametrize("scope_key", ["arm_scope", "batch_scope"])
async def test_async_credential_gets_a_verifiable_token_for_the_scope(info, scope_key):
    async with AsyncClientSecretCredential(**credential_args(info)) as credential:
        check_token(info, await credential.get_token(info[scope_key]), scope_key)


def test_a_token_signed_by_another_key_fails_verification_with_the_served_keys(info):
    """The JWKS check above is real: a token the emulator did not sign does not pass it."""
    genuine = ClientSecretCredential(**credential_args(info)).get_token(info["arm_scope"]).token
    claims = jwt.decode(genuine, options={"verify_signature": False})
    forged = jwt.encode(
        claims,
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(genuine)["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        verified_claims(info, forged, AUDIENCES["arm_scope"])


WRONG = [
    pytest.param({"client_secret": "not-the-secret"}, "AADSTS7000215", id="wrong-secret"),
    pytest.param({"client_id": OTHER_ID}, "AADSTS700016", id="unknown-client"),
]


@pytest.mark.parametrize(("overrides", "aadsts"), WRONG)
def test_sync_credential_with_wrong_identity_gets_no_token(info, overrides, aadsts):
    credential = ClientSecretCredential(**credential_args(info, **overrides))
    with pytest.raises(ClientAuthenticationError, match=aadsts):
        credential.get_token(info["arm_scope"])


@pytest.mark.parametrize(("overrides", "aadsts"), WRONG)
async def test_async_credential_with_wrong_identity_gets_no_token(info, overrides, aadsts):
    async with AsyncClientSecretCredential(**credential_args(info, **overrides)) as credential:
        with pytest.raises(ClientAuthenticationError, match=aadsts):
            await credential.get_token(info["arm_scope"])


def test_sync_credential_for_unknown_tenant_gets_no_token(info):
    # MSAL discovers the tenant first; the emulator's discovery refuses it, so MSAL never asks for a token.
    credential = ClientSecretCredential(**credential_args(info, tenant_id=OTHER_ID))
    with pytest.raises(ClientAuthenticationError, match=f"authority configuration for .*/{OTHER_ID}"):
        credential.get_token(info["arm_scope"])


async def test_async_credential_for_unknown_tenant_gets_no_token(info):
    async with AsyncClientSecretCredential(**credential_args(info, tenant_id=OTHER_ID)) as credential:
        with pytest.raises(ClientAuthenticationError, match="AADSTS90002"):
            await credential.get_token(info["arm_scope"])


BAD_SCOPES = [
    pytest.param(["https://management.azure.com/user_impersonation"], "AADSTS1002012", id="not-.default"),
    pytest.param(["https://vault.azure.net/.default"], "AADSTS500011", id="unknown-resource"),
    pytest.param(
        ["https://management.azure.com/.default", "https://batch.core.windows.net//.default"],
        "AADSTS1002012",
        id="two-resources",
    ),
]


@pytest.mark.parametrize(("scopes", "aadsts"), BAD_SCOPES)
def test_sync_credential_with_bad_scope_gets_no_token(info, scopes, aadsts):
    with pytest.raises(ClientAuthenticationError, match=aadsts):
        ClientSecretCredential(**credential_args(info)).get_token(*scopes)


@pytest.mark.parametrize(("scopes", "aadsts"), BAD_SCOPES)
async def test_async_credential_with_bad_scope_gets_no_token(info, scopes, aadsts):
    async with AsyncClientSecretCredential(**credential_args(info)) as credential:
        with pytest.raises(ClientAuthenticationError, match=aadsts):
            await credential.get_token(*scopes)


def token_request(info, tenant: str | None = None, **form) -> requests.Response:
    fields = {
        "grant_type": "client_credentials",
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "scope": info["arm_scope"],
        **form,
    }
    return requests.post(
        f"{info['authority_host']}/{tenant or info['tenant_id']}/oauth2/v2.0/token",
        data=fields,
        verify=info["ca_bundle"],
        timeout=10,
    )


@pytest.mark.parametrize(
    ("form", "status", "error", "aadsts"),
    [
        pytest.param({"client_secret": "not-the-secret"}, 401, "invalid_client", 7000215, id="wrong-secret"),
        pytest.param({"client_secret": ""}, 401, "invalid_client", 7000218, id="no-secret"),
        pytest.param({"client_id": OTHER_ID}, 400, "unauthorized_client", 700016, id="unknown-client"),
        pytest.param({"scope": "openid"}, 400, "invalid_scope", 1002012, id="bad-scope"),
        pytest.param({"grant_type": "password"}, 400, "unsupported_grant_type", 70003, id="other-grant"),
    ],
)
def test_token_endpoint_answers_errors_in_oauth_format(info, form, status, error, aadsts):
    assert_oauth_error(token_request(info, **form), status, error, aadsts)


def test_token_endpoint_of_unknown_tenant(info):
    assert_oauth_error(token_request(info, tenant=OTHER_ID), 400, "invalid_request", 90002)


def test_token_endpoint_success_shape(info):
    response = token_request(info)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    verified_claims(info, body["access_token"], AUDIENCES["arm_scope"])
