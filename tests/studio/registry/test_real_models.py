"""Every real-model family, end to end: a tiny random-weight pipeline saved to
a folder, registered with `models add`, submitted through the API, watched
over the websocket, written as an MP4 — and cancelled without a VAE decode."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command

from generation import adapters
from generation.encode import probe_video
from generation.tiny_models import FAMILIES, save_tiny
from studio.asgi import application
from studio.generations import runtime
from studio.generations.events import unpack_preview
from studio.generations.models import Generation
from tests.studio.sockets import PatientCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

HOST = (b"host", b"localhost")
ORIGIN = (b"origin", b"http://localhost")
# Latent frames of a 9-frame clip: 4× in time for most, 8× for LTX, none for
# AnimateDiff's image VAE.
LATENT_FRAMES = {"wan": 3, "ltx": 2, "cogvideox": 3, "hunyuan": 3, "animatediff": 9,
                 "skyreels": 3}  # fmt: skip
LATENT_SIDE = {"wan": 8, "ltx": 2, "cogvideox": 8, "hunyuan": 8, "animatediff": 8,
               "skyreels": 8}  # fmt: skip


@pytest.fixture(scope="session")
def tiny_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {family: save_tiny(family, root / family) for family in FAMILIES}


@pytest.fixture
def registered(tiny_folders):
    """Register one family's tiny folder; yields (name, decode calls)."""
    loaded = []

    def register(family: str) -> tuple[str, list[int]]:
        name = f"tiny-{family}"
        call_command(
            "models",
            "add",
            name,
            "--family",
            family,
            "--path",
            str(tiny_folders[family]),
        )
        adapter = adapters.get_adapter(name, "cpu")
        calls: list[int] = []
        vae = adapter.pipeline.vae
        real_decode = vae.decode

        def counting_decode(*args, **kwargs):
            calls.append(1)
            return real_decode(*args, **kwargs)

        vae.decode = counting_decode
        loaded.append(name)
        return name, calls

    yield register
    adapters.unload()
    for name in loaded:
        adapters.unregister(name)


@pytest.fixture
def service():
    # Each test asks for its own tiny model: no built-in model to warm first.
    service = runtime.ensure_started(poll_interval=0.05, warm_model=None)
    yield service
    runtime.stop()


@pytest.fixture
def start_service():
    """Starts the service when called: a viewer can connect to a queued job
    before any step of it runs."""
    yield lambda: runtime.ensure_started(poll_interval=0.05, warm_model=None)
    runtime.stop()


def submit(client, name: str, family: str, steps: int) -> dict:
    body = {
        "prompt": "a red ball bouncing to the right, slow push-in",
        "model": name,
        "num_frames": 9,
        "fps": 8,
        "width": 64,
        "height": 64,
        "steps": steps,
        "guidance": 3.0,
        "seed": 3,
    }
    response = client.post(
        "/api/generations", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


async def receive_until_finished(ws: PatientCommunicator, *, on_preview=None):
    messages = []
    while True:
        output = await ws.receive_output(timeout=120)
        assert output["type"] != "websocket.close", output
        if output.get("text"):
            message = json.loads(output["text"])
            messages.append(message)
            if message["type"] in ("succeeded", "failed", "cancelled"):
                return messages
        else:
            header = unpack_preview(output["bytes"])[0]
            messages.append(header)
            if on_preview is not None:
                await on_preview(header)


def connect(generation_id: str, cookie) -> PatientCommunicator:
    return PatientCommunicator(
        application, f"/ws/generations/{generation_id}", headers=[HOST, ORIGIN, cookie]
    )


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_registered_model_renders_with_a_preview_of_every_latent_frame(
    family, alice, alice_client, alice_cookie, registered, start_service
):
    name, decodes = await database_sync_to_async(registered)(family)
    state = await database_sync_to_async(submit)(alice_client, name, family, 2)
    ws = connect(state["id"], alice_cookie)
    assert (await ws.connect())[0]
    await database_sync_to_async(start_service)()
    messages = await receive_until_finished(ws)
    await ws.disconnect()

    assert messages[-1]["type"] == "succeeded", messages[-1]
    previews = [m for m in messages if "frames" in m]
    assert [m["step"] for m in previews] == [1, 2]
    assert {m["frames"] for m in previews} == {LATENT_FRAMES[family]}
    assert {(m["width"], m["height"]) for m in previews} == {
        (LATENT_SIDE[family], LATENT_SIDE[family])
    }
    assert len(decodes) == 1
    generation = await database_sync_to_async(Generation.objects.get)(pk=state["id"])
    assert generation.status == "succeeded"
    from django.conf import settings

    video = probe_video(settings.MEDIA_ROOT / generation.video)
    assert (video["frames"], video["width"], video["height"]) == (9, 64, 64)
    assert video["metadata"]["model"] == name
    assert json.loads(video["metadata"]["comment"])["model"] == name


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_cancelled_real_model_run_never_decodes(
    family, alice, alice_client, alice_cookie, registered, service
):
    name, decodes = await database_sync_to_async(registered)(family)
    state = await database_sync_to_async(submit)(alice_client, name, family, 60)
    ws = connect(state["id"], alice_cookie)
    await ws.connect()
    cancel = database_sync_to_async(
        lambda: alice_client.post(f"/api/generations/{state['id']}/cancel")
    )

    async def cancel_on_first_preview(header):
        if header["step"] == 1:
            await cancel()

    messages = await receive_until_finished(ws, on_preview=cancel_on_first_preview)
    await ws.disconnect()

    assert messages[-1]["type"] == "cancelled"
    assert max(m["step"] for m in messages if "frames" in m) < 60
    assert decodes == []
    generation = await database_sync_to_async(Generation.objects.get)(pk=state["id"])
    assert generation.status == "cancelled"
    assert not generation.video
