"""The emulated app's credentials besides its secret, kept in the data dir so they survive a restart.

- A client certificate: what an admin uploads to the app registration. The emulator keeps the
  PEM (certificate and private key, as ``CertificateCredential`` reads it) for clients, and
  registers the certificate's thumbprints.
- A federated identity credential: the emulator also stands in for the external OIDC issuer it
  trusts (an AKS cluster), and writes that issuer's service account token where a workload would
  find it projected (``AZURE_FEDERATED_TOKEN_FILE``).
"""

from __future__ import annotations

import base64
import datetime
import time
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from azure_emulator.auth import key_id, private_key_pem, signing_key, write_private_file

CERTIFICATE_FILE = "app-client-certificate.pem"
FEDERATION_KEY_FILE = "federation-signing-key.pem"
FEDERATED_TOKEN_FILE = "federated-token.jwt"
# Real projected tokens live an hour and the kubelet renews them; nothing renews this one, so it lasts.
FEDERATED_TOKEN_LIFETIME_SECONDS = 365 * 24 * 3600
CERTIFICATE_VALIDITY = datetime.timedelta(days=3650)


def thumbprint(digest: bytes) -> str:
    """A certificate thumbprint as a JWT header carries it (``x5t`` / ``x5t#S256``): base64url, unpadded."""
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class AppCertificate:
    """The app's client certificate: a self-signed RSA certificate, its PEM with the key at ``path``."""

    def __init__(self, data_dir: Path, client_id: str):
        self.path = data_dir / CERTIFICATE_FILE
        if not self.path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            write_private_file(
                self.path, _self_signed(key, client_id).public_bytes(serialization.Encoding.PEM) + private_key_pem(key)
            )
        self.certificate = x509.load_pem_x509_certificate(self.path.read_bytes())
        self.public_key = self.certificate.public_key()
        self.sha1_thumbprint = thumbprint(self.certificate.fingerprint(hashes.SHA1()))
        self.sha256_thumbprint = thumbprint(self.certificate.fingerprint(hashes.SHA256()))

    @property
    def hex_thumbprint(self) -> str:
        """The SHA-1 thumbprint as the portal and Entra's errors spell it."""
        return self.certificate.fingerprint(hashes.SHA1()).hex().upper()


def _self_signed(key: rsa.RSAPrivateKey, client_id: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"imagepool-emulator-app-{client_id}")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + CERTIFICATE_VALIDITY)
        .sign(key, hashes.SHA256())
    )


class FederatedIssuer:
    """The external OIDC issuer of the app's federated credential, and the token it projects."""

    def __init__(self, data_dir: Path, issuer: str, subject: str, audience: str):
        self.issuer, self.subject, self.audience = issuer, subject, audience
        self._private_key = signing_key(data_dir / FEDERATION_KEY_FILE)
        self.public_key = self._private_key.public_key()
        self.key_id = key_id(self.public_key)
        self.token_path = data_dir / FEDERATED_TOKEN_FILE
        # Written at every start: a fresh token, as a restarted pod gets.
        write_private_file(self.token_path, self.issue().encode())

    def issue(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": [self.audience],
            "iat": now,
            "nbf": now,
            "exp": now + FEDERATED_TOKEN_LIFETIME_SECONDS,
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id})
