"""Assertions on what the emulator puts on the wire and in its log, shared by the cross-cutting tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests


def assert_arm_error(response: requests.Response, status: int, code: str) -> dict:
    """ARM's error format: ``{"error": {"code", "message"}}`` as JSON, with ARM's request-id headers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert response.headers.get("x-ms-request-id"), response.headers
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str), error
    assert error["message"], error
    return error


def assert_batch_error(response: requests.Response, status: int, code: str) -> dict:
    """Batch's OData error: ``{"odata.metadata", "code", "message": {"lang", "value"}}`` with a request-id header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json;odata=minimalmetadata"), response.headers
    assert response.headers.get("request-id"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["odata.metadata"].endswith("Container.errors/@Element"), body
    assert body["message"]["lang"] == "en-US", body
    assert f"RequestId:{response.headers['request-id']}" in body["message"]["value"], body
    return body


def assert_oauth_error(response: requests.Response, status: int, error: str, aadsts: int) -> dict:
    """Entra's OAuth2 error: ``{"error", "error_description": "AADSTS...", "error_codes"}``, and no token."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert body["error_description"].startswith(f"AADSTS{aadsts}:"), body
    assert body["error_codes"] == [aadsts], body
    assert "access_token" not in body
    return body


class EmulatorLog:
    """The part of an emulator's log written after ``mark()``."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> EmulatorLog:
        self.offset = self.path.stat().st_size
        return self

    def new_text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode("utf-8", "replace")

    def assert_clean(self) -> str:
        """Nothing went wrong inside the emulator: no traceback, no error line."""
        text = self.new_text()
        assert "Traceback" not in text, text
        assert " ERROR " not in text, text
        assert "ERROR:" not in text, text
        return text
