"""The ASGI application: one explicit pipeline for every request.

Order: request id -> transport faults -> authentication -> route -> handler, then the error (if
any) is written in the calling service's wire format and the request is logged.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from azure_emulator import arm, batch, control, entra, managed_identity
from azure_emulator.clock import iso
from azure_emulator.errors import AzureError
from azure_emulator.routing import Call

log = logging.getLogger("azure_emulator")

TRANSPORT_KEY = "azure_emulator.transport"
EXTRA_SLASHES = re.compile(r"/{2,}")


class DroppedConnection(Exception):
    """The request's connection was closed on purpose (the ``drop`` fault)."""


def service_of(path: str) -> str:
    lowered = path.lower()
    if lowered.startswith("/_emulator"):
        return "control"
    if lowered.startswith("/batch/"):
        return "batch"
    if lowered.startswith(("/subscriptions", "/providers", "/tenants", "/metadata/")):
        return "arm"
    if lowered.startswith("/msi/"):
        return "msi"
    return "entra"


class EmulatorApp:
    def __init__(self, backend):
        self.backend = backend
        self.routers = {
            "arm": arm.router(),
            "batch": batch.router(),
            "entra": entra.router(),
            "msi": managed_identity.router(),
            "control": control.router(),
        }
        arm.seed(backend)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        # Repeated slashes name the same resource, as Azure's front doors take them: an endpoint with a trailing
        # slash joined to a path (``https://host/`` + ``/metadata/endpoints``) is how the Azure CLI calls ARM.
        scope = dict(scope, path=EXTRA_SLASHES.sub("/", scope["path"]))
        request = Request(scope, receive)
        started = time.time()
        service = service_of(request.url.path)
        request_id = str(uuid.uuid4())
        fault_kind = rule = None
        try:
            raw_body = await request.body()
            rule = (
                None
                if service == "control"
                else self.backend.faults.transport_fault(service, request.method, request.url.path)
            )
            if rule is not None:
                fault_kind = rule["kind"]
                if not rule.get("applied"):
                    raise_transport_fault(service, request, rule)
            call = Call(
                request=request,
                backend=self.backend,
                service=service,
                params={},
                query={k.lower(): v for k, v in request.query_params.items()},
                raw_body=raw_body,
                request_id=request_id,
            )
            call.identity = self._authenticate(service, call)
            handler, call.params = self.routers[service].match(request.method, request.url.path)
            response = await handler(call)
        except DroppedConnection:
            await self._drop(scope, receive, request, service, started)
            return
        except AzureError as err:
            response = render_error(service, err, request, request_id, self.backend)
        except Exception as exc:  # a bug in the emulator: still answer the way Azure answers a 500
            log.exception("unhandled error for %s %s", request.method, request.url.path)
            internal = AzureError(
                "InternalServerError" if service != "batch" else "InternalError",
                f"The emulator failed to process the request: {exc!r}",
                status=500,
            )
            response = render_error(service, internal, request, request_id, self.backend)
        if rule is not None and rule.get("applied"):
            # The request was handled (a write happened) and only its answer is lost, as when a
            # client dies between sending a request and reading the answer.
            await self._drop(scope, receive, request, service, started, applied=True)
            return
        add_request_headers(service, response, request, request_id)
        self.backend.requests.record(
            service, request.method, request.url.path, response.status_code, started, fault_kind, len(response.body)
        )
        await response(scope, receive, send)

    async def _drop(self, scope, receive, request: Request, service: str, started: float, applied: bool = False):
        """Close the request's connection without an answer (the ``drop`` fault)."""
        self.backend.requests.record(service, request.method, request.url.path, 0, started, "drop")
        log.warning(
            "fault: dropped the connection of %s %s without an answer%s",
            request.method,
            request.url.path,
            " (the request was applied)" if applied else "",
        )
        transport = scope.get(TRANSPORT_KEY)
        if transport is not None:
            transport.abort()
            # The server answers 500 (and logs an error) for a request the app returns from without a
            # response, unless it has seen the connection go: wait for that.
            await receive()

    def _authenticate(self, service: str, call: Call) -> dict:
        if service == "arm":
            return arm.authenticate(call)
        if service == "batch":
            return batch.authenticate(call)
        return {}


# The codes ARM and Batch send with each injectable 5xx status.
ARM_SERVER_ERRORS = {500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}
BATCH_SERVER_ERRORS = {500: "InternalError", 503: "ServerBusy"}


def raise_transport_fault(service: str, request: Request, rule: dict) -> None:
    """Raise what a matched transport fault rule makes of this request."""
    if rule["kind"] == "drop":
        raise DroppedConnection()
    if rule["kind"] == "throttle":
        retry_after = rule.get("retry_after", 1)
        if service == "batch":
            raise AzureError(
                "TooManyRequests",
                "The server is busy; too many requests were sent to the account. "
                "Retry after the interval in the Retry-After header.",
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        segments = request.url.path.strip("/").split("/")
        operation = segments[-2] if len(segments) > 1 else segments[0]
        raise AzureError(
            "TooManyRequests",
            f"The request is being throttled as the limit has been reached for "
            f"operation '{request.method} {operation}'. Please try again after '{retry_after}' seconds.",
            headers={"Retry-After": str(retry_after)},
        )
    status = rule.get("status", 503)
    codes = BATCH_SERVER_ERRORS if service == "batch" else ARM_SERVER_ERRORS
    raise AzureError(
        codes.get(status, codes[500]), "The service is temporarily unavailable. Retry the request.", status=status
    )


def render_error(service: str, err: AzureError, request: Request, request_id: str, backend) -> Response:
    headers = dict(err.headers)
    body: dict[str, Any]
    if service == "batch":
        account = request.url.path.split("/")[2] if request.url.path.count("/") >= 2 else ""
        body = {
            "odata.metadata": f"https://{request.headers.get('host', '')}/batch/{account}/$metadata#Microsoft.Azure."
            "Batch.Protocol.Entities.Container.errors/@Element",
            "code": err.code,
            "message": {"lang": "en-US", "value": f"{err.message}\nRequestId:{request_id}\nTime:{iso(time.time())}"},
        }
        if err.values:
            body["values"] = [{"key": k, "value": v} for k, v in err.values]
        return Response(
            json.dumps(body),
            status_code=err.status,
            headers=headers,
            media_type="application/json;odata=minimalmetadata;streaming=true;charset=utf-8",
        )
    if service == "entra":
        body = {
            "error": err.code,
            "error_description": err.message,
            "error_codes": err.extra.get("error_codes", []),
            "timestamp": iso(time.time()),
            "trace_id": request_id,
            "correlation_id": str(uuid.uuid4()),
        }
        return Response(json.dumps(body), status_code=err.status, headers=headers, media_type="application/json")
    if service == "msi":
        # App Service's shape: no error code on the wire, the status repeated in the body.
        body = {"statusCode": err.status, "message": err.message, "correlationId": request_id}
        return Response(json.dumps(body), status_code=err.status, headers=headers, media_type="application/json")
    error: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.target:
        error["target"] = err.target
    if err.details:
        error["details"] = err.details
    return Response(
        json.dumps({"error": error}),
        status_code=err.status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def add_request_headers(service: str, response: Response, request: Request, request_id: str) -> None:
    if service == "batch":
        response.headers["request-id"] = request_id
        client_request_id = request.headers.get("client-request-id")
        if client_request_id:
            response.headers["client-request-id"] = client_request_id
        return
    response.headers["x-ms-request-id"] = request_id
    if service == "arm":
        response.headers["x-ms-correlation-request-id"] = request.headers.get("x-ms-correlation-request-id", request_id)
        response.headers["x-ms-routing-request-id"] = f"EMULATOR:{request_id}"
