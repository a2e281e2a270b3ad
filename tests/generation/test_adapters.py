from __future__ import annotations

import gc
import weakref
from dataclasses import replace

import pytest

from generation import adapters
from generation.adapters import (
    UnknownModelError,
    available_models,
    check_spec,
    get_adapter,
    register,
    unregister,
    validate_spec,
)
from generation.specs import GenerationSpec

SPEC = GenerationSpec(prompt="a red ball bouncing", num_frames=8, width=64, height=64)


class Stub:
    family = "stub"
    native_size = (8, 8)

    def __init__(self, name, device):
        self.name, self.device = name, device

    def validate(self, spec):
        return {}

    def generate(self, spec, *, on_preview=None, should_stop=None):
        raise NotImplementedError


@pytest.fixture
def stubs():
    loads = []

    def factory(name):
        def load(device):
            loads.append((name, device))
            return Stub(name, device)

        return load

    for name in ("stub-a", "stub-b"):
        register(name, factory(name), family="stub")
    yield loads
    for name in ("stub-a", "stub-b"):
        unregister(name)
    adapters.unload()


def test_it_always_offers_the_builtin_model():
    names = [m["name"] for m in available_models()]
    assert "builtin" in names


def test_it_loads_a_model_once_and_keeps_it_warm(stubs):
    first = get_adapter("stub-a", "cpu")
    assert get_adapter("stub-a", "cpu") is first
    assert stubs == [("stub-a", "cpu")]
    assert {m["name"]: m["loaded"] for m in available_models()}["stub-a"] is True


def test_it_reloads_when_a_different_model_is_asked_for(stubs):
    get_adapter("stub-a", "cpu")
    get_adapter("stub-b", "cpu")
    get_adapter("stub-a", "cpu")
    assert stubs == [("stub-a", "cpu"), ("stub-b", "cpu"), ("stub-a", "cpu")]


def test_a_loaded_model_is_kept_out_of_the_collectors_scans(stubs):
    get_adapter("stub-a", "cpu")
    assert gc.get_freeze_count() > 0
    adapters.unload()
    assert gc.get_freeze_count() == 0


def test_a_released_model_is_collected_even_when_it_holds_cycles():
    class Part:
        pass

    parts = []

    def load(device):
        adapter = Stub("cyclic", device)
        # A pipeline and its components point at each other, as in diffusers.
        adapter.part = Part()
        adapter.part.owner = adapter
        parts.append(weakref.ref(adapter.part))
        return adapter

    register("cyclic", load, family="stub")
    try:
        get_adapter("cyclic", "cpu")
        adapters.unload()
        assert parts[0]() is None
    finally:
        unregister("cyclic")


def test_it_names_an_unknown_model():
    with pytest.raises(UnknownModelError, match="'nope'"):
        get_adapter("nope", "cpu")
    assert "model" in validate_spec(replace(SPEC, model="nope"))


def test_it_accepts_a_spec_within_bounds():
    assert check_spec(SPEC) == {}
    assert validate_spec(SPEC) == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"num_frames": 4}, "num_frames"),
        ({"num_frames": 49}, "num_frames"),
        ({"num_frames": 8.5}, "num_frames"),
        ({"fps": 0}, "fps"),
        ({"width": 65}, "width"),
        ({"height": 2048}, "height"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"guidance_scale": 21.0}, "guidance_scale"),
        ({"seed": -1}, "seed"),
    ],
)
def test_it_explains_each_setting_out_of_bounds(changes, field):
    errors = check_spec(replace(SPEC, **changes))
    assert list(errors) == [field]
    assert all(message.endswith(".") for message in errors[field])
