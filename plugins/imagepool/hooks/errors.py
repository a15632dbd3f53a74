"""Turn Azure SDK exceptions into imagepool errors that say what failed and what to do next."""

from __future__ import annotations

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ..errors import AzureOperationFailed, AzureResourceNotFound

# Azure error codes whose cure is known; anything else gets the generic advice.
NEXT_STEPS = {
    "AuthorizationFailed": "grant the connection's identity the imagepool role on the resource group",
    "TooManyRequests": "Azure is throttling this subscription; the task retries, or lower concurrency",
    "QuotaExceeded": "request more quota for this VM family in the region, or use a smaller size",
    "OperationNotAllowed": "check the resource's current state in the portal; it may be busy or in the wrong state",
    "PropertyChangeNotAllowed": "this property cannot change in place: use a new name (a new version)",
    "InvalidParameter": "fix the named parameter in the pipeline spec",
    "AuthenticationFailed": "check the connection's credentials",
}


def code_of(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None) or (f"HTTP{exc.status_code}" if exc.status_code else type(exc).__name__)


def message_of(exc: HttpResponseError) -> str:
    error = getattr(exc, "error", None)
    return (getattr(error, "message", None) or exc.message or str(exc)).split("\n")[0]


def translate(exc: HttpResponseError, resource: str, action: str | None = None) -> AzureOperationFailed:
    code = code_of(exc)
    cls = AzureResourceNotFound if isinstance(exc, ResourceNotFoundError) else AzureOperationFailed
    return cls(resource, code, message_of(exc), action or NEXT_STEPS.get(code, "see the Azure error above; "
                                                                        "fix the cause and retry the task"))
