"""Turn Azure SDK exceptions into imagepool errors that say what failed and what to do next."""

from __future__ import annotations

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

from imagepool.errors import AzureOperationFailed, AzureResourceNotFound

# Azure answers these when it is busy or a connection broke: about Azure's load, not the resource.
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
BUSY_ADVICE = (
    "Azure is busy (the SDK's own retries ran out): the task retries; if this persists, check the "
    "Azure status page or lower the pipeline's concurrency"
)
UNANSWERED_ADVICE = (
    "the connection broke before Azure answered, so whether Azure acted is unknown: the task "
    "retries and carries on from what Azure did; if this persists, check the network path to Azure "
    "(proxy, firewall, DNS)"
)
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


def unanswered(exc: AzureError, resource: str) -> AzureOperationFailed:
    """The imagepool error for a request that got no answer (the SDK's ``ServiceRequestError`` /
    ``ServiceResponseError`` once its own retries ran out).
    """
    return AzureOperationFailed(resource, type(exc).__name__, str(exc).split("\n")[0], UNANSWERED_ADVICE)


def translate(exc: HttpResponseError, resource: str, action: str | None = None) -> AzureOperationFailed:
    """The imagepool error for ``exc``; ``action`` is the caller's advice for a failure of the resource itself,
    which does not apply when Azure was merely busy.
    """
    code = code_of(exc)
    cls = AzureResourceNotFound if isinstance(exc, ResourceNotFoundError) else AzureOperationFailed
    if exc.status_code in TRANSIENT_STATUS:
        action = NEXT_STEPS.get(code, BUSY_ADVICE)
    return cls(
        resource,
        code,
        message_of(exc),
        action or NEXT_STEPS.get(code, "see the Azure error above; fix the cause and retry the task"),
    )
