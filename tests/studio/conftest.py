from __future__ import annotations

import pytest
from channels.layers import channel_layers

from generation.specs import GenerationSpec
from studio.generations import runtime


@pytest.fixture(autouse=True)
def studio_settings(settings, tmp_path):
    settings.MEDIA_ROOT = (tmp_path / "media").resolve()
    settings.STUDIO_DATA_DIR = tmp_path / "data"  # signing keys
    settings.STUDIO_SERVICE_AUTOSTART = False
    settings.STUDIO_MAX_QUEUED_PER_USER = 8
    # A fresh channel layer per test: each test has its own event loop.
    channel_layers.backends.clear()
    runtime.events.latest_preview.clear()
    runtime.events.progress.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def tiny_spec() -> GenerationSpec:
    return GenerationSpec(
        prompt="a red ball bouncing to the right, slow push-in",
        num_frames=8,
        fps=8,
        width=64,
        height=64,
        num_inference_steps=2,
        guidance_scale=3.0,
        seed=7,
    )


@pytest.fixture(scope="session")
def tiny_adapter():
    from generation.adapters.builtin import BuiltinAdapter
    from generation.builtin.pipeline import tiny_random_pipeline

    return BuiltinAdapter(tiny_random_pipeline(seed=0), device="cpu")


@pytest.fixture
def live_service(tiny_adapter):
    """The studio's own service, running the tiny random model."""
    service = runtime.ensure_started(
        adapter_loader=lambda name, device: tiny_adapter, poll_interval=0.05
    )
    yield service
    runtime.stop()


@pytest.fixture
def start_live_service(tiny_adapter):
    """Starts the studio's service on the tiny model when called, so a test
    can connect to a job it queued before any step of it runs."""

    def start():
        return runtime.ensure_started(
            adapter_loader=lambda name, device: tiny_adapter, poll_interval=0.05
        )

    yield start
    runtime.stop()


@pytest.fixture
def alice_cookie(alice) -> tuple[bytes, bytes]:
    return session_cookie(alice)


@pytest.fixture
def bob_cookie(bob) -> tuple[bytes, bytes]:
    return session_cookie(bob)


def session_cookie(user) -> tuple[bytes, bytes]:
    """A Cookie header that logs a websocket in as ``user``."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
def generation(alice, tiny_spec):
    from studio.generations.models import Generation

    return Generation.objects.create(
        owner=alice,
        prompt=tiny_spec.prompt,
        seed=tiny_spec.seed,
        settings=tiny_spec.to_dict(),
    )
