from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.utils import timezone

from generation import adapters
from generation.adapters import available_models
from generation.specs import GenerationSpec
from generation.tiny_models import save_tiny
from studio.registry.models import RegisteredModel
from studio.registry.services import model_add, registry_sync
from tests.conftest import models_command

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("forget_registered_models"),
]
run = models_command


@pytest.fixture(scope="module")
def wan_folder(tmp_path_factory):
    return save_tiny("wan", tmp_path_factory.mktemp("models") / "wan")


def test_models_add_registers_a_folder_with_the_adapters(wan_folder):
    assert "Registered tiny (wan, t2v)" in run(
        "add", "tiny", "--family", "wan", "--path", str(wan_folder)
    )
    model = RegisteredModel.objects.get(name="tiny")
    assert (model.family, model.task, model.status) == ("wan", "t2v", "available")
    assert model.path == str(wan_folder.resolve())
    entry = {m["name"]: m for m in available_models()}["tiny"]
    assert entry["family"] == "wan"
    assert entry["defaults"]["num_frames"] % 4 == 1


def test_models_list_shows_the_builtin_model_and_every_family(wan_folder, tmp_path):
    run("add", "tiny", "--family", "wan", "--path", str(wan_folder))
    run("add", "gone", "--family", "ltx", "--path", str(tmp_path / "missing"))
    listing = run("list")
    lines = listing.splitlines()
    assert lines[0].split() == ["NAME", "FAMILY", "TASK", "PATH", "STATUS"]
    assert lines[1].split()[:2] == ["builtin", "builtin"]
    assert "tiny" in listing and "available" in listing
    assert "gone" in listing and "does not exist" in listing
    for family in ("cogvideox", "hunyuan", "animatediff"):
        assert family in listing


def test_a_missing_folder_is_registered_as_unavailable_with_the_reason(tmp_path):
    output = run("add", "gone", "--family", "wan", "--path", str(tmp_path / "nope"))
    assert "unavailable" in output
    model = RegisteredModel.objects.get(name="gone")
    assert model.status == "unavailable"
    assert "does not exist" in model.reason
    assert "gone" not in [m["name"] for m in available_models()]


def test_a_folder_of_another_family_is_unavailable(wan_folder):
    model = model_add(name="confused", family="cogvideox", path=str(wan_folder))
    assert model.status == "unavailable"
    assert "WanPipeline" in model.reason


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad Name", "--family", "wan", "--path", "/x"], "lowercase"),
        (["builtin", "--family", "wan", "--path", "/x"], "built-in"),
        (["h", "--family", "hunyuan", "--path", "/x", "--task", "i2v"], "t2v"),
        (["a", "--family", "animatediff", "--path", "/x", "--task", "i2v"], "v2v"),
    ],
)
def test_models_add_refuses_bad_registrations(args, message):
    with pytest.raises(CommandError, match=message):
        run("add", *args)


def test_models_remove_forgets_a_model(wan_folder):
    run("add", "tiny", "--family", "wan", "--path", str(wan_folder))
    assert "Removed tiny" in run("remove", "tiny")
    assert not RegisteredModel.objects.exists()
    assert "tiny" not in [m["name"] for m in available_models()]
    with pytest.raises(CommandError, match="no model called"):
        run("remove", "tiny")


def test_a_folder_deleted_after_registration_turns_unavailable(tmp_path):
    folder = save_tiny("animatediff", tmp_path / "ad")
    run("add", "ad", "--family", "animatediff", "--path", str(folder))
    (folder / "model_index.json").unlink()
    registry_sync()
    model = RegisteredModel.objects.get(name="ad")
    assert model.status == "unavailable" and "model_index.json" in model.reason
    assert "ad" not in [m["name"] for m in available_models()]


def test_a_model_that_fails_to_load_fails_its_job_and_not_the_service(tmp_path):
    from generation.service import GenerationService

    folder = save_tiny("wan", tmp_path / "wan")
    run("add", "broken", "--family", "wan", "--path", str(folder))
    (folder / "transformer" / "config.json").write_text("{not json")
    service = GenerationService(store=None, sink=None)
    spec = GenerationSpec(prompt="a ball", model="broken", num_frames=9, width=64,
                          height=64, num_inference_steps=2)  # fmt: skip
    with pytest.raises(adapters.ModelUnavailableError, match="could not be loaded"):
        service.run_spec(spec, tmp_path / "out")
    model = RegisteredModel.objects.get(name="broken")
    assert model.status == "unavailable"
    assert model.reason.startswith("Loading failed")
    registry_sync()
    assert "broken" not in [m["name"] for m in available_models()]
    assert "builtin" in [m["name"] for m in available_models()]


def test_the_api_fills_in_a_models_own_defaults(alice_client, wan_folder):
    run("add", "tiny", "--family", "wan", "--path", str(wan_folder))
    response = alice_client.post(
        "/api/generations",
        json.dumps({"prompt": "a red ball", "model": "tiny"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    settings = response.json()["settings"]
    assert (settings["num_frames"], settings["fps"]) == (33, 16)
    assert (settings["width"], settings["height"]) == (832, 480)


def test_the_api_explains_a_family_rule(alice_client, wan_folder):
    run("add", "tiny", "--family", "wan", "--path", str(wan_folder))
    body = {"prompt": "a red ball", "model": "tiny", "num_frames": 16,
            "width": 64, "height": 64}  # fmt: skip
    response = alice_client.post(
        "/api/generations", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert "4k+1" in response.json()["errors"]["num_frames"][0]


def test_alice_sees_the_models_page_without_folder_paths(
    alice_client, wan_folder, tmp_path
):
    run("add", "tiny", "--family", "wan", "--path", str(wan_folder))
    run("add", "gone", "--family", "ltx", "--path", str(tmp_path / "missing"))
    page = alice_client.get("/models/").content.decode()
    assert "tiny" in page and "builtin" in page
    assert "does not exist" in page
    assert str(wan_folder) not in page


def test_staff_see_paths_options_and_a_memory_estimate(client, admin_user, wan_folder):
    run("add", "tiny", "--family", "wan", "--path", str(wan_folder), "--dtype", "bf16")
    client.force_login(admin_user)
    page = client.get("/models/").content.decode()
    assert str(wan_folder.resolve()) in page
    assert "bf16" in page
    row = page[page.index('id="model-tiny"') :]
    row = row[: row.index("</tr>")]
    assert "KB" in row or "MB" in row
    builtin = page[page.index('id="model-builtin"') :]
    assert "MB" in builtin[: builtin.index("</tr>")]


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client):
    response = anonymous_client.get("/models/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anonymous_client.get("/api/models").status_code == 401


def test_the_api_lists_models_with_status_and_no_paths(alice_client, tmp_path):
    run("add", "gone", "--family", "ltx", "--path", str(tmp_path / "missing"))
    models = {m["name"]: m for m in alice_client.get("/api/models").json()["models"]}
    assert models["builtin"]["status"] == "available"
    assert models["gone"]["status"] == "unavailable"
    assert "path" not in models["gone"]
    schema = alice_client.get("/api/schema").json()
    assert "/api/models" in schema["paths"]


def test_staff_manage_models_in_the_admin(client, admin_user, wan_folder):
    client.force_login(admin_user)
    response = client.post(
        "/admin/registry/registeredmodel/add/",
        {
            "name": "tiny",
            "family": "wan",
            "task": "t2v",
            "path": str(wan_folder),
            "options": '{"dtype": "fp32"}',
        },  # fmt: skip
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RegisteredModel.objects.get(name="tiny").status == "available"
    assert "tiny" in [m["name"] for m in available_models()]
    listing = client.get("/admin/registry/registeredmodel/").content.decode()
    assert "tiny" in listing
    refused = client.post(
        "/admin/registry/registeredmodel/add/",
        {
            "name": "x",
            "family": "wan",
            "task": "t2v",
            "path": "/x",
            "options": '{"dtype": "fp8"}',
        },  # fmt: skip
    )
    assert refused.status_code == 200 and "dtype must be" in refused.content.decode()


def workers_table(page: str) -> str:
    table = page[page.index('class="table workers"') :]
    return table[: table.index("</table>")]


def test_staff_see_every_worker_with_what_it_does_now(
    client, admin_user, alice, settings
):
    from studio.generations.models import Generation, Worker

    now = timezone.now()
    clip = Generation.objects.create(owner=alice, prompt="a red ball", seed=1,
                                     settings={"num_inference_steps": 20})  # fmt: skip
    Worker.objects.create(name="gpu-1:42:ab12cd", device="cuda:0", job=clip)
    Worker.objects.create(name="gpu-2:7:ab12cd", device="cuda:1")
    Worker.objects.create(name="gpu-3:9:ab12cd", device="cuda:0",
                          last_seen=now - timedelta(minutes=5))  # fmt: skip
    client.force_login(admin_user)
    table = workers_table(client.get("/models/").content.decode())
    rows = table.split("<tr")[2:]
    assert ["gpu-1:42:ab12cd" in rows[0], "gpu-2:7:ab12cd" in rows[1]] == [True, True]
    assert 'data-state="rendering"' in rows[0]
    assert 'data-state="idle"' in rows[1] and "waiting for clips" in rows[1]
    assert 'data-state="silent"' in rows[2] and "5\xa0minutes ago" in rows[2]
    assert "a red ball" not in table  # whose clip it is stays private


def test_creators_see_the_workers_but_not_their_host_names(alice_client):
    from studio.generations.models import Worker

    page = alice_client.get("/models/").content.decode()
    assert "No worker is running" in page
    Worker.objects.create(name="gpu-1:42:ab12cd", device="cuda:0")
    table = workers_table(alice_client.get("/models/").content.decode())
    assert "cuda:0" in table and "waiting for clips" in table
    assert "gpu-1" not in table


def test_a_worker_heard_from_seconds_ago_says_so_in_seconds(alice_client):
    from studio.generations.models import Worker

    Worker.objects.create(name="gpu-1:42:ab12cd", device="cuda:0",
                          last_seen=timezone.now() - timedelta(seconds=12))  # fmt: skip
    table = workers_table(alice_client.get("/models/").content.decode())
    assert "12 s ago" in table or "13 s ago" in table
