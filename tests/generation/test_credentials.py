"""Content Credentials: every clip is signed, reads back as AI-generated, and
any change to the video breaks the check."""

from __future__ import annotations

import json
from dataclasses import replace

import c2pa
import numpy as np
import pytest

from generation import encode
from generation.credentials import (
    AI_SOURCE_TYPE,
    ClipSigner,
    ensure_credentials,
    load_credentials,
    settings_hash,
    sign_video,
    verify_video,
)
from generation.service import GenerationService


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    return ensure_credentials(tmp_path_factory.mktemp("data") / "c2pa")


@pytest.fixture
def signed_clip(tmp_path, spec, credentials):
    frames = np.random.default_rng(1).integers(0, 255, (8, 64, 64, 3), dtype=np.uint8)
    path = encode.write_video(
        frames, tmp_path / "clip.mp4", fps=8, metadata=encode.clip_metadata(spec)
    )
    return sign_video(path, spec=spec, credentials=credentials)


def test_c2pa_reads_the_ai_generated_assertion_back_as_valid(signed_clip, spec):
    with c2pa.Reader(str(signed_clip)) as reader:
        assert reader.get_validation_state() == "Valid"
        manifest = reader.get_active_manifest()
        results = reader.get_validation_results()["activeManifest"]
    failures = {item["code"] for item in results.get("failure", [])}
    assert failures <= {"signingCredential.untrusted"}
    assertions = {a["label"]: a["data"] for a in manifest["assertions"]}
    (action,) = assertions["c2pa.actions.v2"]["actions"]
    assert action["action"] == "c2pa.created"
    assert action["digitalSourceType"] == AI_SOURCE_TYPE
    generation = assertions["org.studio.generation"]
    assert generation["model"]["name"] == "builtin"
    assert generation["settings_sha256"] == settings_hash(spec.to_dict())
    assert manifest["claim_generator_info"][0]["name"] == "Studio"


def test_the_studio_check_calls_a_signed_clip_valid(signed_clip, credentials):
    verdict = verify_video(signed_clip, trust_anchor=credentials.trust_anchor)
    assert verdict.valid and verdict.trusted and verdict.ai_generated
    assert verdict.message == "Content Credentials: valid"
    assert verify_video(signed_clip).valid  # without the studio's own CA


def test_signing_keeps_the_video_playable(signed_clip):
    probe = encode.probe_video(signed_clip)
    assert probe["frames"] == 8 and probe["codec"] == "h264"


def test_flipping_bytes_of_the_video_data_makes_it_invalid(signed_clip, tmp_path):
    data = bytearray(signed_clip.read_bytes())
    mdat = data.find(b"mdat")
    for offset in range(mdat + 200, mdat + 240):
        data[offset] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    with c2pa.Reader(str(tampered)) as reader:
        assert reader.get_validation_state() == "Invalid"
    verdict = verify_video(tampered)
    assert verdict.status == "invalid"
    assert "changed after it was signed" in verdict.message


def test_an_unsigned_video_has_no_credentials(tmp_path):
    frames = np.zeros((8, 64, 64, 3), dtype=np.uint8)
    path = encode.write_video(frames, tmp_path / "plain.mp4", fps=8)
    assert verify_video(path).status == "missing"


def test_a_file_that_is_not_a_video_is_unreadable(tmp_path):
    path = tmp_path / "junk.mp4"
    path.write_bytes(b"not a video at all")
    assert verify_video(path).status in ("unreadable", "missing")
    assert verify_video(tmp_path / "gone.mp4").status == "unreadable"


def test_credentials_are_made_once_and_reused(tmp_path):
    first = ensure_credentials(tmp_path / "c2pa")
    again = ensure_credentials(tmp_path / "c2pa")
    assert first == again
    assert (tmp_path / "c2pa" / "signer-key.pem").stat().st_mode & 0o077 == 0


def test_operator_credentials_load_from_pem_files(tmp_path, credentials):
    (tmp_path / "chain.pem").write_bytes(credentials.chain)
    (tmp_path / "key.pem").write_bytes(credentials.private_key)
    loaded = load_credentials(tmp_path / "chain.pem", tmp_path / "key.pem")
    assert loaded.chain == credentials.chain and loaded.trust_anchor is None
    with pytest.raises(ValueError):
        load_credentials(tmp_path / "key.pem", tmp_path / "key.pem")


def test_the_settings_hash_ignores_key_order():
    assert settings_hash({"a": 1, "b": 2}) == settings_hash({"b": 2, "a": 1})
    assert settings_hash({"a": 1}) != settings_hash({"a": 2})


def test_the_service_signs_every_clip_it_writes(
    tiny_adapter, spec, credentials, tmp_path
):
    service = GenerationService(
        store=None,
        sink=None,
        adapter_loader=lambda name, device: tiny_adapter,
        signer=ClipSigner(credentials),
    )
    result = service.run_spec(spec, tmp_path)
    verdict = verify_video(result.video_path)
    assert verdict.valid and verdict.model == "builtin"
    assert json.loads(result.metadata["comment"])["seed"] == spec.seed
    # The signer prepared for the first clip signs the next one too.
    second = service.run_spec(replace(spec, seed=spec.seed + 1), tmp_path / "2")
    verdict = verify_video(second.video_path)
    assert verdict.valid
    assert verdict.settings_sha256 == settings_hash(
        replace(spec, seed=spec.seed + 1).to_dict()
    )
