"""Content Credentials (C2PA) for the clips the studio writes.

Every MP4 carries a manifest that says it was created by the studio from a
trained model (IPTC digital source type ``trainedAlgorithmicMedia``), with the
model's name and a SHA-256 of the settings. The manifest is signed with a key
the operator configures or, failing that, one made here on first use: a small
local CA and an EC leaf certificate it signs (c2pa refuses a self-signed leaf).

Verification reads the manifest back with c2pa-python, offline, and reduces
the answer to one sentence a viewer understands.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import secrets
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from generation.specs import GenerationSpec

AI_SOURCE_TYPE = (
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
)
GENERATION_ASSERTION = "org.studio.generation"
GENERATOR = "Studio"
GENERATOR_VERSION = "0.1.0"
CA_FILE, CHAIN_FILE, KEY_FILE = "ca.pem", "signer-chain.pem", "signer-key.pem"
# A local signer is not on any public trust list; that alone is not a defect.
TOLERATED_FAILURES = frozenset({"signingCredential.untrusted"})
FAILURE_MESSAGES = {
    "assertion.bmffHash.mismatch": "the video was changed after it was signed",
    "assertion.dataHash.mismatch": "the video was changed after it was signed",
    "claimSignature.mismatch": "the signature does not match the manifest",
    "signingCredential.expired": "the signing certificate has expired",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.invalid": "the signing certificate is not valid",
}


@dataclass(frozen=True)
class SigningCredentials:
    """A PEM certificate chain (leaf first), its private key and, when the
    studio made them, the local CA certificate to verify against."""

    chain: bytes
    private_key: bytes
    trust_anchor: bytes | None = None


@dataclass(frozen=True)
class Verdict:
    """What a viewer learns from a clip's Content Credentials."""

    status: str  # "valid", "invalid", "missing" or "unreadable"
    message: str
    ai_generated: bool = False
    model: str = ""
    settings_sha256: str = ""
    signer: str = ""
    trusted: bool = False
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return self.status == "valid"


# -- credentials --------------------------------------------------------------


def load_credentials(
    chain_path: str | os.PathLike[str], key_path: str | os.PathLike[str]
) -> SigningCredentials:
    """Read an operator's PEM certificate chain and EC private key."""
    chain = Path(chain_path).read_bytes()
    key = Path(key_path).read_bytes()
    if b"BEGIN CERTIFICATE" not in chain:
        raise ValueError(f"{chain_path} holds no PEM certificate")
    if b"PRIVATE KEY" not in key:
        raise ValueError(f"{key_path} holds no PEM private key")
    return SigningCredentials(chain=chain, private_key=key)


def ensure_credentials(folder: str | os.PathLike[str]) -> SigningCredentials:
    """The studio's own signing credentials in ``folder``, made on first use.

    The three files are written into a temporary folder that is renamed into
    place, so two processes starting at once never mix halves of two pairs.
    """
    folder = Path(folder)
    if not (folder / KEY_FILE).is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.with_name(f".{folder.name}.{secrets.token_hex(4)}")
        staging.mkdir(mode=0o700)
        try:
            ca, chain, key = _make_local_ca_and_leaf()
            (staging / CA_FILE).write_bytes(ca)
            (staging / CHAIN_FILE).write_bytes(chain)
            key_file = staging / KEY_FILE
            key_file.touch(mode=0o600)
            key_file.write_bytes(key)
            try:
                staging.rename(folder)
            except OSError:
                pass  # Another process won the race; use its files.
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return SigningCredentials(
        chain=(folder / CHAIN_FILE).read_bytes(),
        private_key=(folder / KEY_FILE).read_bytes(),
        trust_anchor=(folder / CA_FILE).read_bytes(),
    )


def _make_local_ca_and_leaf() -> tuple[bytes, bytes, bytes]:
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{GENERATOR} local CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, GENERATOR),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{GENERATOR} signer"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, GENERATOR),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem)
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca_pem, leaf.public_bytes(pem) + ca_pem, key_pem


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


# -- signing ------------------------------------------------------------------


def settings_hash(settings: Mapping[str, Any]) -> str:
    """SHA-256 of the settings as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(
        dict(settings), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def clip_manifest(spec: GenerationSpec, *, title: str = "clip.mp4") -> dict[str, Any]:
    """The manifest definition for one generated clip."""
    model = {"name": spec.model}
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": GENERATOR_VERSION}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": AI_SOURCE_TYPE,
                            "softwareAgent": {"name": f"{GENERATOR} ({spec.model})"},
                            "parameters": {"model": spec.model},
                        }
                    ]
                },
            },
            {
                "label": GENERATION_ASSERTION,
                "data": {
                    "model": model,
                    "settings_sha256": settings_hash(spec.to_dict()),
                },
            },
        ],
    }


def sign_video(
    path: str | os.PathLike[str],
    *,
    spec: GenerationSpec,
    credentials: SigningCredentials,
    signer: c2pa.Signer | None = None,
) -> Path:
    """Embed a signed manifest in the MP4 at ``path``, in place.

    The signed copy is written beside the original and renamed over it, so a
    reader never sees a half-signed file. ``signer`` reuses a prepared
    ``c2pa.Signer`` for these credentials. Returns the path.
    """
    path = Path(path)
    signed = path.with_name(f".{path.name}.{secrets.token_hex(4)}.signed")
    try:
        with (
            contextlib.nullcontext(signer) if signer else _signer(credentials) as use,
            c2pa.Builder(clip_manifest(spec, title=path.name)) as builder,
            path.open("rb") as source,
            signed.open("w+b") as dest,
        ):
            builder.sign(use, "video/mp4", source, dest)
        os.replace(signed, path)
    finally:
        signed.unlink(missing_ok=True)
    return path


def _signer(credentials: SigningCredentials) -> c2pa.Signer:
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, credentials.chain, credentials.private_key, None
    )
    return c2pa.Signer.from_info(info)


class ClipSigner:
    """A callable for :class:`GenerationService`: signs each MP4 it writes.

    The key is read once, on the first clip, and kept for the next ones.
    """

    def __init__(self, credentials: SigningCredentials) -> None:
        self.credentials = credentials
        self._signer: c2pa.Signer | None = None
        self._lock = threading.Lock()

    def __call__(self, path: Path, spec: GenerationSpec) -> None:
        with self._lock:
            if self._signer is None:
                self._signer = _signer(self.credentials)
            sign_video(
                path, spec=spec, credentials=self.credentials, signer=self._signer
            )


# -- verification -------------------------------------------------------------


def verify_video(
    path: str | os.PathLike[str], *, trust_anchor: bytes | None = None
) -> Verdict:
    """Read a clip's manifest and say whether it holds.

    ``trust_anchor`` (a PEM CA certificate) marks clips signed under it as
    trusted; without one, an otherwise sound manifest is still "valid".
    """
    context = None
    if trust_anchor:
        context = c2pa.Context.from_dict(
            {
                "trust": {"user_anchors": trust_anchor.decode()},
                "verify": {"verify_trust": True},
            }
        )
    try:
        with Path(path).open("rb") as stream:
            reader = c2pa.Reader.try_create("video/mp4", stream, None, context)
            if reader is None:
                return Verdict("missing", "No Content Credentials in this video.")
            with reader:
                state = reader.get_validation_state() or ""
                manifest = reader.get_active_manifest() or {}
                results = reader.get_validation_results() or {}
    except (OSError, c2pa.C2paError) as error:
        return Verdict("unreadable", f"Content Credentials could not be read: {error}")
    return _verdict(state, manifest, results)


def _verdict(state: str, manifest: dict[str, Any], results: dict[str, Any]) -> Verdict:
    active = results.get("activeManifest") or {}
    codes = tuple(item.get("code", "") for item in active.get("failure") or ())
    problems = tuple(code for code in codes if code not in TOLERATED_FAILURES)
    assertions = {
        a.get("label"): a.get("data") or {} for a in manifest.get("assertions") or ()
    }
    actions = (assertions.get("c2pa.actions.v2") or {}).get("actions") or []
    ai = any(a.get("digitalSourceType") == AI_SOURCE_TYPE for a in actions)
    generation = assertions.get(GENERATION_ASSERTION) or {}
    details = {
        "ai_generated": ai,
        "model": (generation.get("model") or {}).get("name", ""),
        "settings_sha256": generation.get("settings_sha256", ""),
        "signer": (manifest.get("signature_info") or {}).get("issuer", ""),
        "trusted": state == "Trusted",
        "problems": problems,
    }
    if state not in ("Valid", "Trusted") or problems:
        reasons = [FAILURE_MESSAGES.get(code, code) for code in problems]
        reason = "; ".join(dict.fromkeys(reasons)) or state.lower() or "not valid"
        return Verdict(
            "invalid", f"Content Credentials: invalid — {reason}.", **details
        )
    if not ai:
        return Verdict(
            "invalid",
            "Content Credentials: valid, but they do not declare AI generation.",
            **details,
        )
    return Verdict("valid", "Content Credentials: valid", **details)
