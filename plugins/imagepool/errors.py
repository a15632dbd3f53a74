"""Failures the library reports; each message names the resource, the Azure error code and what to do."""

from __future__ import annotations


class ImagepoolError(Exception):
    """Base of every error imagepool raises on purpose."""


class AzureOperationFailed(ImagepoolError):
    """Azure refused or failed an operation on a resource."""

    def __init__(self, resource: str, code: str, message: str, action: str):
        self.resource = resource
        self.code = code
        self.azure_message = message
        self.action = action
        super().__init__(f"{resource}: Azure error {code}: {message} -> {action}")


class AzureResourceNotFound(AzureOperationFailed):
    """The resource does not exist (sensors read this as "not yet")."""


class WaitTimedOut(ImagepoolError):
    """A wait ran out of time; the message says what was last seen and where to look."""
