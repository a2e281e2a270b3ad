"""The studio's Content Credentials: its signing key and clip verdicts."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from generation.credentials import (
    ClipSigner,
    SigningCredentials,
    Verdict,
    ensure_credentials,
    load_credentials,
    verify_video,
)

_lock = threading.Lock()
_loaded: dict[tuple[str, ...], SigningCredentials] = {}


def studio_credentials() -> SigningCredentials:
    """The operator's configured credentials, or the studio's own local ones."""
    if settings.STUDIO_C2PA_CERT:
        key = ("operator", settings.STUDIO_C2PA_CERT, settings.STUDIO_C2PA_KEY)
    else:
        key = ("local", str(Path(settings.STUDIO_DATA_DIR) / "c2pa"))
    with _lock:
        if key not in _loaded:
            if key[0] == "operator":
                _loaded[key] = load_credentials(key[1], key[2])
            else:
                _loaded[key] = ensure_credentials(key[1])
        return _loaded[key]


def clip_signer() -> ClipSigner:
    """What the generation service calls on every MP4 it writes."""
    return ClipSigner(studio_credentials())


def video_verdict(path: Path) -> Verdict:
    """Verify the MP4 at ``path``; answers are cached until the file changes."""
    try:
        stat = path.stat()
    except OSError:
        return Verdict("unreadable", "The video file is missing.")
    cache_key = f"c2pa:{path}:{stat.st_mtime_ns}:{stat.st_size}"
    verdict = cache.get(cache_key)
    if verdict is None:
        verdict = verify_video(path, trust_anchor=studio_credentials().trust_anchor)
        cache.set(cache_key, verdict, 24 * 3600)
    return _whose(verdict)


def _whose(verdict: Verdict) -> Verdict:
    """Say whose signature a sound manifest carries, and what a verifier
    elsewhere will make of it.

    "valid" is kept for a chain the operator configured (``STUDIO_C2PA_CERT``).
    The studio's own local CA is on no trust list: C2PA readers elsewhere
    report its signer as untrusted, and the page says so rather than "valid".
    """
    if not verdict.valid:
        return verdict
    signer = verdict.signer or "an unnamed signer"
    if settings.STUDIO_C2PA_CERT:
        message = f"Content Credentials: valid, signed by {signer}."
    else:
        message = (
            f"Content Credentials: intact, signed by this studio's own key "
            f"({signer}). Verifiers elsewhere will show the signer as untrusted: "
            "its certificate is on no public trust list."
        )
    return replace(verdict, message=message)
