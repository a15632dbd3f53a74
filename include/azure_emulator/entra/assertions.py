"""Client assertions at the token endpoint (``private_key_jwt``), checked the way Entra checks them.

An assertion the app signed itself (``iss`` = its client id) must carry the thumbprint of its
registered certificate and that certificate's signature (``CertificateCredential``). Any other
issuer is looked up among the app's federated identity credentials (``WorkloadIdentityCredential``).
"""

from __future__ import annotations

import base64
import time

import jwt

from azure_emulator.clock import iso
from azure_emulator.errors import AzureError

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Entra tolerates this much clock difference on an assertion's validity window.
CLOCK_SKEW_SECONDS = 300
CERTIFICATE_DOCS = (
    "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials."
)
FEDERATION_DOCS = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
# What a client may sign with: MSAL signs RS256 with an x5t header, azure-identity's aio client PS256 with x5t#S256.
CERTIFICATE_ALGORITHMS = ["RS256", "PS256"]
# Claims checked here one by one, each with its own AADSTS error, not by PyJWT.
SIGNATURE_ONLY = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
}


def rejected(aadsts: int, message: str, error: str = "invalid_client") -> AzureError:
    return AzureError(error, f"AADSTS{aadsts}: {message}", extra={"error_codes": [aadsts]})


def missing_field(name: str) -> AzureError:
    return rejected(
        90014,
        f"The required field '{name}' is missing from the credential. Ensure that you have all the "
        "necessary parameters for the login request.",
        error="invalid_request",
    )


def verify_client_assertion(backend, form: dict[str, str], token_url: str) -> None:
    """Accept the form's ``client_assertion`` for the app ``form["client_id"]``, or raise Entra's error."""
    if form.get("client_assertion_type") != JWT_BEARER:
        raise missing_field("client_assertion_type")
    assertion = form.get("client_assertion")
    if not assertion:
        raise missing_field("client_assertion")
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise rejected(50027, "JWT token is invalid or malformed.", error="invalid_request") from None
    if str(claims.get("iss", "")).lower() == backend.settings.client_id:
        _verify_certificate_assertion(backend, assertion, header, claims, form["client_id"], token_url)
    else:
        _verify_federated_assertion(backend, assertion, claims)


def _verify_certificate_assertion(
    backend, assertion: str, header: dict, claims: dict, client_id: str, token_url: str
) -> None:
    certificate = backend.app_certificate
    presented = str(header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
    if presented not in (certificate.sha256_thumbprint, certificate.sha1_thumbprint):
        raise rejected(
            700027,
            "Client assertion contains an invalid signature. [Reason - The key was not found., "
            f"Thumbprint of key used by client: '{_hex(presented)}', Please visit the Azure Portal, Graph "
            f"Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]",
        )
    try:
        jwt.decode(assertion, certificate.public_key, algorithms=CERTIFICATE_ALGORITHMS, options=SIGNATURE_ONLY)
    except jwt.InvalidTokenError:
        raise rejected(
            700027,
            "Client assertion contains an invalid signature. [Reason - The provided signature value "
            "did not match the expected signature value., Thumbprint of key used by client: "
            f"'{certificate.hex_thumbprint}']",
        ) from None
    if {str(claims.get("iss", "")).lower(), str(claims.get("sub", "")).lower()} != {client_id.lower()}:
        raise rejected(
            700021, f"Client assertion application identifier doesn't match 'client_id' parameter. {CERTIFICATE_DOCS}"
        )
    if _normalized_url(token_url) not in {_normalized_url(a) for a in _audiences(claims)}:
        raise rejected(700023, f"Client assertion audience claim does not match Realm issuer. {CERTIFICATE_DOCS}")
    _check_lifetime(claims)


def _verify_federated_assertion(backend, assertion: str, claims: dict) -> None:
    federation = backend.federation
    issuer = claims.get("iss")
    if issuer != federation.issuer:
        raise rejected(
            700211,
            f"No matching federated identity record found for presented assertion issuer "
            f"'{issuer}'. Please check your federated identity credential Subject, Audience and Issuer "
            f"against the presented assertion. {FEDERATION_DOCS}",
        )
    try:
        jwt.decode(assertion, federation.public_key, algorithms=["RS256"], options=SIGNATURE_ONLY)
    except jwt.InvalidTokenError:
        raise rejected(700027, "Client assertion failed signature validation.") from None
    # Issuer and subject match exactly (Entra compares federated credentials case-sensitively).
    if claims.get("sub") != federation.subject or federation.audience not in _audiences(claims):
        raise rejected(
            70021,
            f"No matching federated identity record found for presented assertion. Assertion "
            f"Issuer: '{issuer}'. Assertion Subject: '{claims.get('sub')}'. Assertion Audience: "
            f"'{','.join(_audiences(claims))}'. {FEDERATION_DOCS}",
        )
    _check_lifetime(claims)


def _check_lifetime(claims: dict) -> None:
    now = time.time()
    valid_from = _number(claims.get("nbf", claims.get("iat")))
    expires = _number(claims.get("exp"))
    if expires + CLOCK_SKEW_SECONDS < now or valid_from - CLOCK_SKEW_SECONDS > now:
        raise rejected(
            700024,
            f"Client assertion is not within its valid time range. Current time: {iso(now)}, "
            f"assertion valid from {iso(valid_from)}, expiry time of assertion {iso(expires)}. "
            f"{CERTIFICATE_DOCS}",
        )


def _audiences(claims: dict) -> list[str]:
    audience = claims.get("aud")
    return [str(a) for a in audience] if isinstance(audience, list) else [str(audience or "")]


def _normalized_url(url: str) -> str:
    return url.rstrip("/").lower()


def _number(value) -> float:
    """A NumericDate claim, or the epoch when absent or not a number (so a missing ``exp`` has expired)."""
    return float(value) if isinstance(value, (int, float)) else 0.0


def _hex(thumbprint: str) -> str:
    """The base64url thumbprint a client sent, in the hex form Entra's errors print."""
    try:
        return base64.urlsafe_b64decode(thumbprint + "=" * (-len(thumbprint) % 4)).hex().upper()
    except ValueError:
        return thumbprint
