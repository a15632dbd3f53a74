"""Who is calling: Entra ID access tokens (issued and checked here) and Batch SharedKey signatures.

Tokens are RS256 JWTs signed with a key kept in the data dir, so tokens survive a restart. Each
API accepts only its own audiences, the way ARM and Batch refuse a token minted for the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from azure_emulator.errors import AzureError

TOKEN_LIFETIME_SECONDS = 3599


def write_private_file(path: Path, data: bytes) -> None:
    """Write a secret readable by its owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # os.open's mode applies only to a new file; one left by an older run keeps its own until this.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def signing_key(path: Path) -> rsa.RSAPrivateKey:
    """The RSA key kept at ``path``, made on first use so that what it signed stays valid after a restart."""
    if not path.exists():
        write_private_file(path, private_key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


def key_id(public_key) -> str:
    """The ``kid`` Entra gives a key: the base64url SHA-1 of its DER encoding."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")


class TokenAuthority:
    """Signs and verifies the emulated tenant's access tokens."""

    def __init__(self, data_dir: Path, tenant_id: str, issuer_base: str = "https://sts.windows.net"):
        self._private_key = signing_key(data_dir / "token-signing-key.pem")
        self._public_key = self._private_key.public_key()
        self.key_id = key_id(self._public_key)
        self.tenant_id = tenant_id
        self.issuer = f"{issuer_base}/{tenant_id}/"

    def issue(self, client_id: str, audience: str, lifetime: int = TOKEN_LIFETIME_SECONDS) -> str:
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "azp": client_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "tid": self.tenant_id,
            "ver": "1.0",
            "idtyp": "app",
            "uti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id, "x5t": self.key_id}
        )

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key, as_dict=True)
        jwk.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def verify(self, authorization: str | None, audiences: frozenset[str], api_name: str) -> dict:
        """Return the token's claims, or raise the error ARM / Batch give for a bad bearer token."""
        if not authorization:
            raise AzureError(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                status=401,
                extra={"challenge": "The authentication failed because of missing 'Authorization' header."},
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AzureError(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                status=401,
                extra={"challenge": "The authentication failed because of an invalid 'Authorization' header."},
            )
        try:
            claims = jwt.decode(token, self._public_key, algorithms=["RS256"], options={"verify_aud": False}, leeway=5)
        except jwt.ExpiredSignatureError:
            raise AzureError(
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
                extra={"challenge": "The access token has expired."},
            ) from None
        except jwt.InvalidTokenError as exc:
            raise AzureError(
                "InvalidAuthenticationToken",
                f"The access token is invalid. ({exc})",
                extra={"challenge": "The access token is invalid."},
            ) from None
        if claims.get("aud") not in audiences:
            allowed = "','".join(sorted(audiences))
            raise AzureError(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. "
                f"It should exactly match with one of the allowed audiences '{allowed}' for {api_name}.",
                extra={"challenge": "The access token audience is invalid."},
            )
        if claims.get("iss") != self.issuer or claims.get("tid") != self.tenant_id:
            raise AzureError(
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the tenant "
                f"'{self.issuer}' associated with this subscription. Please use the authority (URL) "
                f"'https://login.windows.net/{self.tenant_id}' to get the token.",
                extra={"challenge": "The access token is from the wrong issuer."},
            )
        return claims


def add_challenge(err: AzureError, authority: str) -> AzureError:
    """Give a 401 the ``WWW-Authenticate`` challenge that names where to get a token (the tenant's authority)."""
    if err.status == 401:
        description = err.extra.get("challenge", "The access token is invalid.")
        err.headers.setdefault(
            "WWW-Authenticate",
            f'Bearer authorization_uri="{authority}", error="invalid_token", error_description="{description}"',
        )
    return err


SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def shared_key_string_to_sign(method: str, path: str, query: str, headers: dict[str, str]) -> str:
    """What a Batch client signs (the ``BatchSharedKeyAuthPolicy`` recipe), rebuilt from the request."""
    values = {k.lower(): v for k, v in headers.items() if v}
    if method not in ("GET", "HEAD"):
        values.setdefault("content-length", "0")
    text = method + "\n" + "\n".join(values.get(h, "") for h in SIGNED_HEADERS) + "\n"
    for name, value in sorted((k, v) for k, v in values.items() if "ocp-" in k):
        text += f"{name}:{value}\n"
    account = headers.get("_account", "")
    text += f"/{account}{path}"
    parsed = parse_qs(query, keep_blank_values=False)
    for name in sorted(parsed):
        if parsed[name][0]:
            text += f"\n{name}:{parsed[name][0]}"
    return text


def verify_shared_key(
    authorization: str, account: str, key: str, method: str, path: str, query: str, headers: dict[str, str]
) -> None:
    """Raise Batch's 403 AuthenticationFailed unless the SharedKey signature matches the account key."""
    failure = AzureError(
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of "
        "Authorization header is formed correctly including the signature.",
        status=403,
    )
    scheme, _, rest = authorization.partition(" ")
    name, _, signature = rest.partition(":")
    if scheme != "SharedKey" or name.lower() != account.lower() or not signature:
        failure.values = [
            (
                "AuthenticationErrorDetail",
                f"The Authorization header is not a SharedKey header for account '{account}'.",
            )
        ]
        raise failure
    signed = dict(headers, _account=name)
    text = shared_key_string_to_sign(method, path, query, signed)
    expected = base64.b64encode(hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, signature):
        failure.values = [
            (
                "AuthenticationErrorDetail",
                f"The MAC signature found in the HTTP request '{signature}' is not the same as any computed signature.",
            )
        ]
        raise failure
