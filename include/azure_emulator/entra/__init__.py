"""Microsoft Entra ID: OIDC discovery and the OAuth2 client-credentials token endpoint."""

from __future__ import annotations

from azure_emulator.entra.routes import router

__all__ = ["router"]
