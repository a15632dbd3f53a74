"""Azure SDK clients pointed at the emulator, trusting its CA explicitly per client
(this machine's REQUESTS_CA_BUNDLE / SSL_CERT_FILE point at the system bundle).
"""

from __future__ import annotations

import time
from urllib.parse import urljoin

import requests
from azure.batch import BatchClient
from azure.batch.aio import BatchClient as AsyncBatchClient
from azure.core.credentials import AccessToken
from azure.identity import ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from azure.mgmt.batch import BatchManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.compute.aio import ComputeManagementClient as AsyncComputeManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

# SDK pollers default to 30 s (ARM, when no Retry-After) and 5 s (Batch); tests poll fast.
POLL = 0.05


def credential(info: dict, secret: str | None = None) -> ClientSecretCredential:
    return ClientSecretCredential(
        info["tenant_id"],
        info["client_id"],
        secret or info["client_secret"],
        authority=info["authority_host"],
        disable_instance_discovery=True,
        connection_verify=info["ca_bundle"],
    )


def async_credential(info: dict) -> AsyncClientSecretCredential:
    return AsyncClientSecretCredential(
        info["tenant_id"],
        info["client_id"],
        info["client_secret"],
        authority=info["authority_host"],
        disable_instance_discovery=True,
        connection_verify=info["ca_bundle"],
    )


def compute(info: dict, cred) -> ComputeManagementClient:
    return ComputeManagementClient(
        cred,
        info["subscription_id"],
        base_url=info["arm_endpoint"],
        credential_scopes=[info["arm_scope"]],
        connection_verify=info["ca_bundle"],
        polling_interval=POLL,
    )


def async_compute(info: dict, cred) -> AsyncComputeManagementClient:
    return AsyncComputeManagementClient(
        cred,
        info["subscription_id"],
        base_url=info["arm_endpoint"],
        credential_scopes=[info["arm_scope"]],
        connection_verify=info["ca_bundle"],
        polling_interval=POLL,
    )


def resources(info: dict, cred) -> ResourceManagementClient:
    return ResourceManagementClient(
        cred,
        info["subscription_id"],
        base_url=info["arm_endpoint"],
        credential_scopes=[info["arm_scope"]],
        connection_verify=info["ca_bundle"],
        polling_interval=POLL,
    )


def subscriptions(info: dict, cred, **kwargs) -> SubscriptionClient:
    return SubscriptionClient(
        cred,
        base_url=info["arm_endpoint"],
        credential_scopes=[info["arm_scope"]],
        connection_verify=info["ca_bundle"],
        **kwargs,
    )


def batch_management(info: dict, cred, **kwargs) -> BatchManagementClient:
    return BatchManagementClient(
        cred,
        info["subscription_id"],
        base_url=info["arm_endpoint"],
        credential_scopes=[info["arm_scope"]],
        connection_verify=info["ca_bundle"],
        **kwargs,
    )


class ArmSession(requests.Session):
    """Plain REST calls to ARM with the credential's bearer token: for what no SDK call shows (raw pages,
    headers, bodies an SDK would not send). Paths are relative to the ARM endpoint.
    """

    def __init__(self, info: dict, cred):
        super().__init__()
        self.base = info["arm_endpoint"].rstrip("/") + "/"
        self.verify = info["ca_bundle"]
        self._credential = cred
        self._scope = info["arm_scope"]

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("verify", self.verify)
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault("Authorization", f"Bearer {self._credential.get_token(self._scope).token}")
        return super().request(method, urljoin(self.base, url.lstrip("/")), *args, headers=headers, **kwargs)


def arm_session(info: dict, cred) -> ArmSession:
    return ArmSession(info, cred)


def batch(info: dict, cred, endpoint: str | None = None) -> BatchClient:
    return BatchClient(
        endpoint=endpoint or info["batch_endpoint"],
        credential=cred,
        credential_scopes=[info["batch_scope"]],
        connection_verify=info["ca_bundle"],
    )


def async_batch(info: dict, cred, endpoint: str | None = None) -> AsyncBatchClient:
    return AsyncBatchClient(
        endpoint=endpoint or info["batch_endpoint"],
        credential=cred,
        credential_scopes=[info["batch_scope"]],
        connection_verify=info["ca_bundle"],
    )


class StaticToken:
    """A credential that presents one given token whatever the scope (an old token, or one for another API)."""

    def __init__(self, token: str):
        self.token = token

    def get_token(self, *scopes, **kwargs) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


class ControlSession(requests.Session):
    """requests against the control endpoint with relative paths: ``control.get("/resources")``."""

    def __init__(self, info: dict):
        super().__init__()
        self.base = info["control_endpoint"].rstrip("/") + "/"
        self.verify = info["ca_bundle"]

    def request(self, method, url, *args, **kwargs):
        # Per request: requests lets REQUESTS_CA_BUNDLE from the environment override Session.verify.
        kwargs.setdefault("verify", self.verify)
        return super().request(method, urljoin(self.base, url.lstrip("/")), *args, **kwargs)


def control_session(info: dict) -> ControlSession:
    return ControlSession(info)


class NetworkSession(ArmSession):
    """Plain REST calls to ARM's Microsoft.Network (no azure-mgmt-network here): paths are resource ids, with a
    Network api-version unless one is given.
    """

    API_VERSION = "2024-05-01"

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("params") is None:
            kwargs["params"] = {"api-version": self.API_VERSION}
        return super().request(method, url, *args, **kwargs)


def network_session(info: dict, cred) -> NetworkSession:
    return NetworkSession(info, cred)
