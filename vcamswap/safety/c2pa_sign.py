"""Signed C2PA manifests (Content Credentials) for offline outputs, and reading them back.

The manifest says what the file is: a `c2pa.actions` assertion whose action carries IPTC's
digital source type `compositeWithTrainedAlgorithmicMedia` (a real scene with an AI-generated
part: the face). Signing needs a certificate chain the C2PA library accepts: a leaf with key
usage digitalSignature and extended key usage emailProtection, issued by a CA (a self-signed
leaf is refused). Without one configured, VCamSwap makes a local CA and leaf once per
installation under the data folder (`LocalCredentials`), named as local: viewers see the
manifest as valid but from an untrusted signer, which is the truth.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcamswap import __version__
from vcamswap.errors import VCamSwapError
from vcamswap.labels import DESCRIPTION, DIGITAL_SOURCE_TYPE

log = logging.getLogger(__name__)

MIME_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
}
"""What C2PA can embed a manifest in among VCamSwap's output formats (not MKV or WebM)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    certificate_chain: bytes
    private_key: bytes
    local: bool


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_usage(authority: bool) -> Any:
    """A CA signs certificates (and CRLs); the leaf signs manifests: nothing else."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=not authority,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=authority,
        crl_sign=authority,
        encipher_only=False,
        decipher_only=False,
    )


def make_local_credentials(folder: Path) -> Credentials:
    """A CA and a signing certificate for this installation, made on first use and kept in
    ``folder`` (key files 0600). The names say "local": nothing here claims to be anyone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    chain_path, key_path = folder / "c2pa-local-chain.pem", folder / "c2pa-local-key.pem"
    if chain_path.is_file() and key_path.is_file():
        if os.name == "posix" and key_path.stat().st_mode & 0o077:
            log.warning("%s was readable by others: made private (0600) again", key_path)
            key_path.chmod(0o600)
        return Credentials(chain_path.read_bytes(), key_path.read_bytes(), local=True)
    if chain_path.is_file() or key_path.is_file():
        log.warning("%s: one of the two signing files was missing; making a new pair", folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VCamSwap local signer"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("VCamSwap local CA (this installation only)"))
        .issuer_name(name("VCamSwap local CA (this installation only)"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .add_extension(
            _key_usage(authority=True),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("VCamSwap local signer (this installation only)"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(authority=False),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(key_path, private)
    chain_path.write_bytes(chain)
    return Credentials(chain, private, local=True)


def configured_credentials(certificate: Path, private_key: Path) -> Credentials:
    try:
        return Credentials(certificate.read_bytes(), private_key.read_bytes(), local=False)
    except OSError as exc:
        raise VCamSwapError(
            f"cannot read the C2PA signing files ({exc.filename}: {exc.strerror}); fix "
            "safety.c2pa.certificate / private_key, or empty both to use the local signer"
        ) from exc


def manifest_definition() -> dict[str, Any]:
    return {
        "claim_generator_info": [{"name": "VCamSwap", "version": __version__}],
        "title": "Face swapped by VCamSwap",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": DIGITAL_SOURCE_TYPE,
                            "softwareAgent": {"name": "VCamSwap", "version": __version__},
                            "description": DESCRIPTION,
                        }
                    ]
                },
            }
        ],
    }


SIGNING_FIX = (
    "fix safety.c2pa.certificate / private_key, or empty both to use the local signer (delete "
    "the data folder's c2pa/ to make a new local one), or set safety.c2pa.enabled: false"
)


def _sign(credentials: Credentials, mime: str, source: Any, dest: Any) -> None:
    """Our manifest, signed with ``credentials``, from stream ``source`` into ``dest``."""
    import c2pa

    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, credentials.certificate_chain, credentials.private_key, None
    )
    with c2pa.Builder(json.dumps(manifest_definition())) as builder:
        builder.sign(c2pa.Signer.from_info(info), mime, source, dest)


def sign_file(path: Path, credentials: Credentials) -> None:
    """Embed a signed manifest in ``path`` (replaced atomically; on failure left as it was)."""
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise VCamSwapError(
            f"{path.name}: C2PA manifests cannot be embedded in {path.suffix} files; use "
            ".mp4, .mov, .jpg, .png or .webp, or set safety.c2pa.enabled: false"
        )
    partial = path.with_name(f".{path.stem}.c2pa{path.suffix}")
    try:
        with path.open("rb") as source, partial.open("wb") as dest:
            _sign(credentials, mime, source, dest)
        os.replace(partial, path)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise VCamSwapError(f"C2PA signing failed ({exc}); {SIGNING_FIX}") from exc


class ManifestSigner:
    """Signs offline outputs; the credentials are loaded (or made) on first use."""

    def __init__(
        self, data_dir: Path, certificate: Path | None = None, private_key: Path | None = None
    ) -> None:
        self._data_dir = data_dir
        self._certificate = certificate
        self._private_key = private_key
        self._credentials: Credentials | None = None

    def credentials(self) -> Credentials:
        if self._credentials is None:
            if self._certificate is not None and self._private_key is not None:
                self._credentials = configured_credentials(self._certificate, self._private_key)
            else:
                self._credentials = make_local_credentials(self._data_dir / "c2pa")
        return self._credentials

    def supports(self, path: Path) -> bool:
        return path.suffix.lower() in MIME_TYPES

    def check(self) -> None:
        """Sign a tiny picture in memory: a broken key or certificate is reported before a
        long job, not after it."""
        import io

        from PIL import Image

        credentials = self.credentials()
        picture = io.BytesIO()
        Image.new("RGB", (16, 16)).save(picture, "JPEG")
        picture.seek(0)
        try:
            _sign(credentials, "image/jpeg", picture, io.BytesIO())
        except Exception as exc:
            raise VCamSwapError(f"C2PA signing does not work ({exc}); {SIGNING_FIX}") from exc

    def sign(self, path: Path) -> None:
        sign_file(path, self.credentials())


@dataclass(frozen=True, slots=True)
class ManifestReport:
    present: bool
    valid_except_trust: bool
    digital_source_type: str | None
    signer: str | None = None
    problems: tuple[str, ...] = ()


TRUST_CODES = ("signingCredential.untrusted",)


def read_manifest(path: Path) -> ManifestReport:
    """The active manifest of ``path``: whether it validates apart from trust in the signer,
    and the digital source type of its actions."""
    import c2pa

    try:
        with c2pa.Reader(str(path)) as reader:
            store = json.loads(reader.json())
    except Exception:  # no manifest, or a format C2PA does not read
        return ManifestReport(False, False, None)
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    source_type = None
    for assertion in active.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                source_type = action.get("digitalSourceType") or source_type
    failures = _failures(store)
    problems = tuple(code for code in failures if code not in TRUST_CODES)
    signer = active.get("signature_info", {}).get("common_name")
    return ManifestReport(True, not problems, source_type, signer, problems)


def _failures(store: dict[str, Any]) -> list[str]:
    codes = [str(s.get("code")) for s in store.get("validation_status", []) or []]
    results = store.get("validation_results", {}) or {}
    for part in results.values():
        if isinstance(part, dict):
            codes += [str(s.get("code")) for s in part.get("failure", []) or []]
    return sorted(set(codes))
