"""The one error factory: every error the emulator returns is raised as an :class:`AzureError`
with a code from :data:`STATUS`, which knows the HTTP status Azure uses for it.

Each service serializes the same exception in its own wire format (ARM's ``{"error": ...}``,
Batch's OData error, Entra's OAuth error) in :mod:`azure_emulator.app`.
"""

from __future__ import annotations

from typing import Any

# Azure error code -> HTTP status. Sources: ARM RPC common-api-details, Batch status and error
# codes, AADSTS reference, and real service output quoted in the project's wire reference.
STATUS: dict[str, int] = {
    # ARM (resource manager and Microsoft.Compute)
    "MissingApiVersionParameter": 400,
    "InvalidApiVersionParameter": 400,
    "NoRegisteredProviderFound": 400,
    "InvalidResourceType": 404,
    "InvalidRequestContent": 400,
    "InvalidParameter": 400,
    "BadRequest": 400,
    "InvalidResourceReference": 400,
    "ConflictingUserInput": 400,
    "NicInUse": 400,
    "PublicIPAddressCannotBeDeleted": 400,
    "SubnetIsFull": 400,
    "InvalidResourceName": 400,
    "PropertyChangeNotAllowed": 409,
    "OperationNotAllowed": 409,
    "Conflict": 409,
    "CannotDeleteResource": 409,
    "ResourceNotFound": 404,
    "ResourceGroupNotFound": 404,
    "ParentResourceNotFound": 404,
    "NotFound": 404,
    "GalleryImageNotFound": 404,
    "PlatformImageNotFound": 404,
    "InvalidTemplateDeployment": 400,
    "SkuNotAvailable": 409,
    "AuthenticationFailed": 401,
    "InvalidAuthenticationToken": 401,
    "InvalidAuthenticationTokenAudience": 401,
    "ExpiredAuthenticationToken": 401,
    "InvalidAuthenticationTokenTenant": 401,
    "TooManyRequests": 429,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "HttpMethodNotAllowed": 405,
    "SubscriptionNotFound": 404,
    "LocationRequired": 400,
    "LocationNotAvailableForResourceType": 400,
    "InvalidResourceLocation": 409,
    "InvalidTagNameCharacters": 400,
    "invalid_resource": 400,
    # Batch data plane
    "PoolNotFound": 404,
    "NodeNotFound": 404,
    "JobNotFound": 404,
    "TaskNotFound": 404,
    "PoolExists": 409,
    "JobExists": 409,
    "TaskExists": 409,
    "PoolBeingDeleted": 409,
    "PoolBeingResized": 409,
    "PoolBeingCreated": 409,
    "PoolQuotaReached": 409,
    "JobBeingDeleted": 409,
    "JobCompleted": 409,
    "OperationInvalidForCurrentState": 409,
    "InvalidPropertyValue": 400,
    "MissingRequiredProperty": 400,
    "InvalidRequestBody": 400,
    "InvalidQueryParameterValue": 400,
    "MissingRequiredQueryParameter": 400,
    "InvalidAuthenticationInfo": 400,
    "UnsupportedApiVersion": 400,
    "InvalidUri": 400,
    "UnsupportedHttpVerb": 405,
    "InsufficientAccountPermissions": 403,
    "ServerBusy": 503,
    "InternalError": 500,
    # Entra ID (OAuth2 error field)
    "invalid_client": 401,
    "unauthorized_client": 400,
    "invalid_request": 400,
    "invalid_scope": 400,
    "unsupported_grant_type": 400,
}


class AzureError(Exception):
    """An error as Azure reports it; ``status`` comes from the code unless given."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        target: str | None = None,
        details: list[dict] | None = None,
        values: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS[code]
        self.target = target
        self.details = details or []
        self.values = values or []
        self.headers = headers or {}
        self.extra = extra or {}


# --- ARM -------------------------------------------------------------------------------------------


def resource_not_found(resource_type: str, name: str, resource_group: str) -> AzureError:
    return AzureError(
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def resource_group_not_found(resource_group: str) -> AzureError:
    return AzureError("ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def parent_not_found(resource_type: str, name: str, resource_group: str) -> AzureError:
    """A child resource whose parent is missing: ARM answers as for the parent itself."""
    return AzureError(
        "ParentResourceNotFound",
        f"Failed to perform 'write' on resource(s) of type '{resource_type}', "
        f"because the parent resource '{name}' could not be found.",
    )


def invalid_parameter(target: str, message: str) -> AzureError:
    return AzureError("InvalidParameter", message, target=target)


def property_change_not_allowed(prop: str) -> AzureError:
    return AzureError("PropertyChangeNotAllowed", f"Changing property '{prop}' is not allowed.", target=prop)


def nested_resources_exist(child_ids: list[str]) -> AzureError:
    sample = ", ".join(f"'{c}'" for c in child_ids[:3])
    return AzureError(
        "CannotDeleteResource",
        f"Cannot delete resource while nested resources exist. Some existing nested resource IDs include: {sample}. "
        "Please delete all nested resources before deleting this resource.",
    )


def throttled(operation: str, retry_after: int) -> AzureError:
    return AzureError(
        "TooManyRequests",
        f"The request is being throttled as the limit has been reached for operation '{operation}'. "
        f"Please try again after '{retry_after}' seconds.",
        headers={"Retry-After": str(retry_after)},
    )


# --- Batch -----------------------------------------------------------------------------------------


def batch_invalid_property(
    name: str,
    reason: str,
    message: str = "The value provided for one of the properties in the request body is invalid.",
) -> AzureError:
    return AzureError("InvalidPropertyValue", message, values=[("PropertyName", name), ("Reason", reason)])


def batch_missing_property(name: str) -> AzureError:
    return AzureError(
        "MissingRequiredProperty",
        "A required property was not specified in the request body.",
        values=[("PropertyName", name)],
    )
