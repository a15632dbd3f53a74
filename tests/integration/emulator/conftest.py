"""The emulator tests' fixtures: raw requests with a token, and the Batch data-plane ones (defined beside their
helpers in batch_support).
"""

from __future__ import annotations

import pytest
import requests

from tests.integration.emulator.batch_support import fast, pools, second_batch, shared_key_batch

__all__ = ["fast", "pools", "second_batch", "shared_key_batch"]


@pytest.fixture(scope="module")
def call(info, credential):
    """``call(method, path, body=None, api_version=..., token="arm"|"batch")``: one raw request with a token."""
    tokens = {scope: credential.get_token(info[f"{scope}_scope"]).token for scope in ("arm", "batch")}

    def send(
        method: str, path: str, body: str | None = None, *, api_version: str | None = "2024-11-01", token: str = "arm"
    ) -> requests.Response:
        params = {"api-version": api_version} if api_version else {}
        headers = {"Authorization": f"Bearer {tokens[token]}", "Content-Type": "application/json"}
        return requests.request(
            method,
            f"{info['authority_host']}{path}",
            params=params,
            data=body,
            headers=headers,
            verify=info["ca_bundle"],
            timeout=10,
        )

    return send
