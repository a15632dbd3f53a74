"""The ARM side shared by every Microsoft.Compute hook: clients, long-running operations, ids.

Long-running operations are started without the SDK's poller (``polling=False``): the initial
response's ``Azure-AsyncOperation`` / ``Location`` URLs are kept as plain JSON, so a deferred task's
trigger can poll them with the aio client after a worker or triggerer restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.compute import ComputeManagementClient

from imagepool.hooks.base import ImagepoolAzureHook
from imagepool.hooks.errors import translate, unanswered

T = TypeVar("T")

# Azure's Retry-After for compute operations is usually 10-60 s; this is the fallback when absent.
DEFAULT_POLL_SECONDS = 15.0


@dataclass
class ArmOperation:
    """A started long-running operation, as plain data (trigger kwargs, XCom)."""

    resource_id: str
    description: str
    status_url: str | None
    location_url: str | None
    retry_after: float | None
    done: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def text(value) -> str | None:
    """SDK enums print as ``Type.MEMBER``; Azure's own spelling is their value."""
    return getattr(value, "value", value)


def operation_from(resource_id: str, description: str, headers: dict[str, str]) -> ArmOperation:
    """The operation an initial response started; without polling URLs it finished at once (e.g. 204)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    status_url = lowered.get("azure-asyncoperation")
    location_url = lowered.get("location")
    return ArmOperation(
        resource_id=resource_id,
        description=description,
        status_url=status_url,
        location_url=location_url,
        retry_after=retry_after_seconds(lowered),
        done=not (status_url or location_url),
    )


def retry_after_seconds(headers: dict[str, str]) -> float | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in lowered:
        try:
            return float(lowered["retry-after"])
        except ValueError:
            return None
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if name in lowered:
            return float(lowered[name]) / 1000
    return None


class ArmHook(ImagepoolAzureHook):
    """ComputeManagementClient (sync and aio) for a connection's subscription and cloud."""

    def _client_class(self):
        return ComputeManagementClient

    @staticmethod
    def _async_client_class():
        # Imported when a wait first needs it: the aio client's modules take a good part of a second
        # to import, which every task's DAG parse would pay otherwise (see preload.py).
        from azure.mgmt.compute.aio import ComputeManagementClient as AsyncComputeManagementClient

        return AsyncComputeManagementClient

    def _client_kwargs(self, credential) -> dict[str, Any]:
        self.settings.require("subscription_id")
        cloud = self.settings.cloud
        return {
            "credential": credential,
            "subscription_id": self.settings.subscription_id,
            "base_url": cloud.arm_endpoint,
            "credential_scopes": [cloud.arm_scope],
            **self._transport_kwargs(),
        }

    def _probe(self) -> str:
        count = sum(1 for _ in self.connection.galleries.list())
        return f"Connected to Azure Resource Manager ({self.settings.cloud.name}); {count} galleries visible."

    def resource_group(self, explicit: str | None) -> str:
        group = explicit or self.settings.resource_group
        if not group:
            self.settings.require("resource_group")
        return str(group)

    def compute_id(self, resource_group: str, *segments: str) -> str:
        return (
            f"/subscriptions/{self.settings.subscription_id}/resourceGroups/{resource_group}/providers/"
            "Microsoft.Compute/" + "/".join(segments)
        )

    def lookup(self, get: Callable[[], T], resource: str) -> T | None:
        """``get()``'s result, or None when Azure says it does not exist; other errors name ``resource``."""
        try:
            return get()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            raise translate(exc, resource) from exc

    def start(
        self, begin: Callable[..., Any], *, resource_id: str, description: str, action: str | None = None
    ) -> ArmOperation:
        """Send a ``begin_*`` call's initial request only and keep what is needed to poll it."""
        seen: dict[str, Any] = {}

        def capture(pipeline_response) -> None:
            # Called for every attempt: the SDK retries a throttled or 5xx answer, and only the last answer,
            # the one that started the operation, carries its polling URLs.
            seen["status"] = pipeline_response.http_response.status_code
            seen["headers"] = dict(pipeline_response.http_response.headers)

        try:
            begin(polling=False, raw_response_hook=capture)
        except HttpResponseError as exc:
            raise translate(exc, f"{description} ({resource_id})", action) from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            # The SDK does not send a POST again when its answer was lost: the task's retry does.
            raise unanswered(exc, f"{description} ({resource_id})") from exc
        return operation_from(resource_id, description, seen.get("headers", {}))

    # --- async, for triggers -----------------------------------------------------------------
    async def operation_status(self, client, operation: dict) -> dict:
        """Poll a started operation once: ``{"status", "error", "retry_after"}``."""
        if operation.get("done"):
            return {"status": "Succeeded", "error": None, "retry_after": None}
        if operation.get("status_url"):
            response = await client.send_request(HttpRequest("GET", operation["status_url"]))
            response.raise_for_status()
            body = response.json()
            status = body.get("status", "InProgress")
            return {
                "status": status,
                "error": body.get("error"),
                "retry_after": retry_after_seconds(dict(response.headers)),
            }
        response = await client.send_request(HttpRequest("GET", operation["location_url"]))
        if response.status_code == 202:
            return {"status": "InProgress", "error": None, "retry_after": retry_after_seconds(dict(response.headers))}
        if response.status_code >= 400:
            body = response.json() if response.content else {}
            return {
                "status": "Failed",
                "error": body.get("error") or {"code": f"HTTP{response.status_code}", "message": response.text()},
                "retry_after": None,
            }
        return {"status": "Succeeded", "error": None, "retry_after": None}
