"""Managed identity as App Service serves it: a local token endpoint guarded by a per-host header.

A process finds it through ``IDENTITY_ENDPOINT`` and ``IDENTITY_HEADER`` (what App Service, Functions
and Container Apps set), which is what ``ManagedIdentityCredential`` looks for first.
"""

from __future__ import annotations

from azure_emulator.managed_identity.routes import router

__all__ = ["router"]
