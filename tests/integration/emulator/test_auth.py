"""Who may call ARM and Batch: bearer tokens checked for signature, expiry, tenant and audience; Batch SharedKey."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
import requests
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration import clients
from tests.integration.clients import StaticToken
from tests.integration.emulator.wire import assert_arm_error, assert_batch_error

OTHER_TENANT = "0badc0de-0000-4000-8000-000000000000"


def emulator_key(info):
    return serialization.load_pem_private_key((Path(info["data_dir"]) / "token-signing-key.pem").read_bytes(), None)


def forged(info, credential, *, key=None, scope: str = "arm_scope", **claims) -> str:
    """A genuine token's claims (ARM's unless ``scope`` names another) with ``claims`` changed, signed with
    ``key`` (the emulator's by default).
    """
    genuine = credential.get_token(info[scope]).token
    body = {**jwt.decode(genuine, options={"verify_signature": False}), **claims}
    return jwt.encode(
        body, key or emulator_key(info), algorithm="RS256", headers={"kid": jwt.get_unverified_header(genuine)["kid"]}
    )


def expired() -> dict:
    """The time claims of a token that expired an hour ago."""
    an_hour_ago = int(time.time()) - 3600
    return {"iat": an_hour_ago - 3600, "nbf": an_hour_ago - 3600, "exp": an_hour_ago}


def compute_with(info, token: str):
    return clients.compute(info, StaticToken(token))


def rejected_by_arm(info, token: str) -> ClientAuthenticationError:
    with compute_with(info, token) as compute:
        with pytest.raises(ClientAuthenticationError) as err:
            compute.galleries.list_by_resource_group(info["resource_group"]).next()
    assert err.value.status_code == 401
    assert_challenge(info, err.value.response.headers)
    return err.value


def assert_challenge(info, headers) -> None:
    """ARM's 401 challenge names the authority that issues this cloud's tokens (here, the emulator's)."""
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer authorization_uri="{info["authority_host"]}/{info["tenant_id"]}"'), challenge
    assert 'error="invalid_token"' in challenge, challenge


def test_arm_accepts_a_token_for_its_audience(info, credential):
    """The control case: the same static credential with the right token gets through."""
    with clients.resources(info, StaticToken(credential.get_token(info["arm_scope"]).token)) as resources:
        assert resources.resource_groups.get(info["resource_group"]).name == info["resource_group"]


def test_arm_refuses_a_batch_audience_token(info, credential):
    err = rejected_by_arm(info, credential.get_token(info["batch_scope"]).token)
    assert err.error.code == "InvalidAuthenticationTokenAudience"
    assert "https://batch.core.windows.net/" in err.error.message


def test_arm_refuses_an_expired_token(info, credential):
    err = rejected_by_arm(info, forged(info, credential, **expired()))
    assert err.error.code == "ExpiredAuthenticationToken"


def test_arm_refuses_a_token_signed_by_another_key(info, credential):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    err = rejected_by_arm(info, forged(info, credential, key=other_key))
    assert err.error.code == "InvalidAuthenticationToken"


def test_arm_refuses_a_token_from_another_tenant(info, credential):
    err = rejected_by_arm(
        info, forged(info, credential, tid=OTHER_TENANT, iss=f"https://sts.windows.net/{OTHER_TENANT}/")
    )
    assert err.error.code == "InvalidAuthenticationTokenTenant"
    assert OTHER_TENANT in err.error.message


def test_arm_refuses_a_token_that_is_not_a_jwt(info):
    assert rejected_by_arm(info, "not-a-jwt").error.code == "InvalidAuthenticationToken"


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", "Bearer"])
def test_arm_refuses_requests_without_a_bearer_token(info, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(
        f"{info['arm_endpoint']}subscriptions/{info['subscription_id']}/resourcegroups",
        params={"api-version": "2024-11-01"},
        headers=headers,
        verify=info["ca_bundle"],
        timeout=10,
    )
    assert_arm_error(response, 401, "AuthenticationFailed")
    assert_challenge(info, response.headers)


def rejected_by_batch(info, token: str) -> ClientAuthenticationError:
    with clients.batch(info, StaticToken(token)) as batch:
        with pytest.raises(ClientAuthenticationError) as err:
            list(batch.list_supported_images())
    assert err.value.status_code == 401
    return err.value


def test_batch_refuses_an_arm_audience_token(info, credential):
    err = rejected_by_batch(info, credential.get_token(info["arm_scope"]).token)
    assert err.error.code == "InvalidAuthenticationTokenAudience"


def test_batch_refuses_an_expired_token(info, credential):
    err = rejected_by_batch(info, forged(info, credential, scope="batch_scope", **expired()))
    assert err.error.code == "ExpiredAuthenticationToken"


def test_batch_refuses_a_token_signed_by_another_key(info, credential):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    err = rejected_by_batch(info, forged(info, credential, scope="batch_scope", key=other_key))
    assert err.error.code == "InvalidAuthenticationToken"


def test_batch_refuses_requests_without_credentials(info):
    response = requests.get(
        f"{info['batch_endpoint']}/supportedimages",
        params={"api-version": "2025-06-01"},
        verify=info["ca_bundle"],
        timeout=10,
    )
    assert_batch_error(response, 401, "AuthenticationFailed")


def test_batch_accepts_its_own_audience(info, batch):
    assert any(image.node_agent_sku_id for image in batch.list_supported_images())


def test_batch_shared_key_with_the_account_key_is_accepted(info):
    with clients.batch(info, AzureNamedKeyCredential(info["batch_account"], info["batch_account_key"])) as batch:
        images = list(batch.list_supported_images())
    assert images
    assert all(image.node_agent_sku_id.startswith("batch.node.") for image in images)


@pytest.mark.parametrize("which", ["wrong-key", "other-account"])
def test_batch_shared_key_with_a_wrong_key_is_refused(info, which):
    other = info["batch_accounts"][1]
    name, key = (info["batch_account"], other["key"]) if which == "wrong-key" else (other["name"], other["key"])
    with clients.batch(info, AzureNamedKeyCredential(name, key)) as batch:
        with pytest.raises(HttpResponseError) as err:
            list(batch.list_supported_images())
    assert err.value.status_code == 403
    assert err.value.error.code == "AuthenticationFailed"
