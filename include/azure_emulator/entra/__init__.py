"""Microsoft Entra ID: OIDC discovery and the OAuth2 client-credentials token endpoint."""

from .routes import router

__all__ = ["router"]
