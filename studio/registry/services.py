"""Registering real models and keeping the generation registry in step.

The table is the source of truth; :func:`registry_sync` checks every row's
folder, records its status, and registers the available ones with
``generation.adapters`` (unregistering the rest). It runs whenever the
adapters ask for a refresh (see ``RegistryConfig.ready``), and never raises:
a broken row is marked unavailable with its reason and the others carry on.

A row is a video model or an audio model (its ``kind``): audio models
(Stable Audio) are registered with :mod:`generation.adapters.stable_audio`
instead, so they are never offered where a clip is made;
:func:`audio_models_for` lists the ones a user may make sound with.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

from django.db.models import Count, Max

from generation import adapters
from generation.adapters import builtin as builtin_adapter
from generation.adapters import stable_audio
from generation.adapters.options import ModelOptions, estimate_memory, parse_options
from studio.registry.models import RegisteredModel

logger = logging.getLogger(__name__)

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
# Names this process registered from the table, with what they were built from.
_registered: dict[str, tuple[Any, ...]] = {}
_sync_lock = threading.Lock()
# The table as of the last sync (row count, latest change): checking folders
# is slow, so pages only look again when another process changed the table.
_synced_state: tuple[int, Any] | None = None


class RegistryError(ValueError):
    """A model cannot be registered; the message says why."""


AUDIO_FAMILIES = (stable_audio.FAMILY,)


def model_kind(family: str) -> str:
    """ "audio" for a family that makes sound, "video" for every other."""
    return "audio" if family in AUDIO_FAMILIES else "video"


def detect_family(path: str) -> str:
    """The family of a saved folder from its ``model_index.json``; "" if unknown."""
    if stable_audio.is_stable_audio_folder(path):
        return stable_audio.FAMILY
    try:
        index = json.loads((Path(path).expanduser() / "model_index.json").read_text())
        class_name = str(index.get("_class_name", ""))
    except (OSError, ValueError, AttributeError):
        return ""
    # The longest prefix wins, should one family's prefix start another's.
    found = [f for f, p in adapters.CLASS_PREFIXES.items() if class_name.startswith(p)]
    return max(found, key=lambda f: len(adapters.CLASS_PREFIXES[f]), default="")


def model_add(
    *,
    name: str,
    family: str = "",
    path: str,
    task: str = "",
    options: dict[str, Any] | None = None,
) -> RegisteredModel:
    """Register (or update) a model; its folder is checked, not loaded.

    ``family`` left empty is read from the folder's ``model_index.json``;
    ``task`` left empty is the family's first ("t2v", or "t2a" for audio).
    A folder that is missing or broken is still registered, as unavailable
    with the reason, so it can be fixed in place. Raises RegistryError for a
    bad name, family, task or options.
    """
    if not family:
        family = detect_family(path)
        if not family:
            raise RegistryError(
                f"{path} is not a model folder this studio knows (no "
                "model_index.json naming a supported pipeline); give --family."
            )
    if not task:
        task = _tasks(family)[0] if family in _all_families() else "t2v"
    parsed = model_check_settings(name=name, family=family, task=task, options=options)
    local = Path(path).expanduser()
    if local.exists() or path.startswith((".", "/", "~")):
        path = str(local.resolve())
    reason = _check_folder(family, path)
    model, _ = RegisteredModel.objects.update_or_create(
        name=name,
        defaults={
            "family": family,
            "task": task,
            "path": path,
            "options": parsed.to_dict(),
            "status": (
                RegisteredModel.Status.UNAVAILABLE
                if reason
                else RegisteredModel.Status.AVAILABLE
            ),
            "reason": reason,
        },
    )
    registry_sync()
    return model


def model_check_settings(
    *, name: str, family: str, task: str, options: dict[str, Any] | None
) -> ModelOptions:
    """Check a registration's name, family, task and options; RegistryError if bad."""
    if not NAME.match(name or ""):
        raise RegistryError(
            "Name models with lowercase letters, digits, dots, dashes or "
            "underscores (up to 60)."
        )
    if name == "builtin":
        raise RegistryError("'builtin' is the built-in model's name; pick another.")
    if family not in _all_families():
        raise RegistryError(
            f"Unknown family {family!r}; use one of {', '.join(_all_families())}."
        )
    tasks = _tasks(family)
    if task not in tasks:
        raise RegistryError(f"{family} models do {', '.join(tasks)}; not {task!r}.")
    parsed, errors = parse_options(options or {})
    if errors:
        raise RegistryError(" ".join(m for msgs in errors.values() for m in msgs))
    return parsed


def _all_families() -> tuple[str, ...]:
    return (*adapters.FAMILIES, *AUDIO_FAMILIES)


def _tasks(family: str) -> tuple[str, ...]:
    if family in AUDIO_FAMILIES:
        return stable_audio.TASKS
    return adapters.family_module(family).TASKS  # type: ignore[attr-defined]


def _check_folder(family: str, path: str) -> str:
    if family in AUDIO_FAMILIES:
        return stable_audio.check_folder(path)
    return adapters.check_folder(family, path)


def audio_models_for(user: Any) -> list[dict[str, Any]]:
    """The audio models ``user`` may make sound with, by name.

    Registered models belong to the machine and every signed-in creator may
    use them, as with video models; an anonymous visitor gets none. Only
    available models are listed, each as {"name", "family", "label",
    "sample_rate", "max_seconds", "channels", "min_seconds", "steps"};
    make sound with ``stable_audio.audio_adapter(name, device)
    .generate_audio(...)``. Reads the table as it stands (no folder checks).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if not getattr(user, "is_active", True):
        return []
    found = []
    for model in RegisteredModel.objects.filter(
        family__in=AUDIO_FAMILIES, status=RegisteredModel.Status.AVAILABLE
    ):
        try:
            limits = stable_audio.folder_limits(model.path)
        except (OSError, ValueError, TypeError) as error:
            logger.info("no audio limits for %s: %s", model.name, error)
            continue
        found.append(
            {
                "name": model.name,
                "family": model.family,
                "label": f"{model.name} ({model.get_family_display()})",
                **limits.to_dict(),
            }
        )
    return found


def model_remove(*, name: str) -> bool:
    """Forget a model; True when there was one by that name."""
    deleted, _ = RegisteredModel.objects.filter(name=name).delete()
    registry_sync()
    return bool(deleted)


def model_mark_unavailable(*, name: str, reason: str) -> None:
    """Record that a model failed to load, so the model page says why."""
    RegisteredModel.objects.filter(name=name).update(
        status=RegisteredModel.Status.UNAVAILABLE, reason=reason[:2000]
    )


def registry_state() -> tuple[int, Any]:
    """What changes when a row is added, removed or edited: one cheap query."""
    found = RegisteredModel.objects.aggregate(rows=Count("pk"), latest=Max("updated"))
    return found["rows"], found["latest"]


def registry_refresh() -> None:
    """The adapters' source: sync only when the table changed since the last
    sync (``models add`` from another process, the admin); otherwise nothing.

    Folders are checked on start, by ``models add/remove``, and when the
    Models page asks, never on every form or Clips page load.
    """
    if registry_state() != _synced_state:
        registry_sync()


def registry_sync() -> None:
    """Check every registered folder and register the usable ones."""
    global _synced_state
    with _sync_lock:
        _synced_state = registry_state()
        seen = set()
        for model in RegisteredModel.objects.all():
            seen.add(model.name)
            try:
                _sync_one(model)
            except Exception as error:
                logger.exception("checking the model %s failed", model.name)
                _record(model, f"The model could not be checked ({error}).")
                _unregister(model.name)
        for name in set(_registered) - seen:
            _unregister(name)


def _sync_one(model: RegisteredModel) -> None:
    options, errors = parse_options(model.options)
    reason = _check_folder(model.family, model.path)
    if errors:
        reason = " ".join(m for msgs in errors.values() for m in msgs)
    if reason:
        _record(model, reason)
        _unregister(model.name)
        return
    if model.status != RegisteredModel.Status.AVAILABLE and model.reason.startswith(
        "Loading failed"
    ):
        # A folder that failed to load stays unavailable until it is re-added.
        _unregister(model.name)
        return
    _record(model, "")
    signature = (model.family, model.path, model.task, options)
    if model.family in AUDIO_FAMILIES:
        stable_audio.register_folder(model.name, path=model.path, options=options)
        _registered[model.name] = signature
        return
    if _registered.get(model.name) == signature and adapters.is_registered(model.name):
        return
    adapters.register_folder(
        model.name,
        family=model.family,
        path=model.path,
        task=model.task,
        options=options,
        description=f"{model.get_family_display()} ({model.get_task_display()})",
        on_load_error=lambda reason, name=model.name: _load_failed(name, reason),
    )
    _registered[model.name] = signature


def _load_failed(name: str, reason: str) -> None:
    # Called from the worker thread; the row tells the model page why.
    model_mark_unavailable(name=name, reason=f"Loading failed: {reason}")
    _unregister(name)


def _record(model: RegisteredModel, reason: str) -> None:
    status = (
        RegisteredModel.Status.UNAVAILABLE
        if reason
        else RegisteredModel.Status.AVAILABLE
    )
    if (model.status, model.reason) != (status, reason):
        RegisteredModel.objects.filter(pk=model.pk).update(status=status, reason=reason)
        model.status, model.reason = status, reason


def _unregister(name: str) -> None:
    if _registered.pop(name, None) is not None:
        adapters.unregister(name)
        stable_audio.unregister(name)


def _builtin_memory() -> dict[str, int] | None:
    try:
        return builtin_adapter.weights_memory()
    except (OSError, ValueError) as error:
        logger.info("no memory estimate for the built-in model: %s", error)
        return None


def model_rows(*, sync: bool = True) -> list[dict[str, Any]]:
    """Every model for the page, the command and the API: the built-in first.

    ``sync=False`` reads the table as it stands, without checking folders.
    """
    if sync:
        registry_sync()
    builtin = next(
        (m for m in adapters.available_models() if m["name"] == "builtin"), None
    )
    rows: list[dict[str, Any]] = []
    if builtin is not None:
        rows.append(
            {
                "name": "builtin",
                "kind": "video",
                "family": "builtin",
                "task": "t2v",
                "path": "(built in)",
                "status": "available",
                "reason": "",
                "options": {},
                "defaults": builtin["defaults"],
                "description": builtin["description"],
                "memory": _builtin_memory(),
            }
        )
    for model in RegisteredModel.objects.all():
        options, _ = parse_options(model.options)
        memory = None
        if model.is_available and Path(model.path).is_dir():
            try:
                memory = estimate_memory(model.path, options)
            except (OSError, ValueError) as error:
                logger.info("no memory estimate for %s: %s", model.name, error)
        kind, audio, defaults = model_kind(model.family), None, {}
        if kind == "audio":
            try:
                audio = stable_audio.folder_limits(model.path).to_dict()
            except (OSError, ValueError, TypeError):
                audio = None  # the reason says why the folder is unusable
        else:
            module: Any = adapters.family_module(model.family)
            defaults = dict(module.DEFAULTS)
        rows.append(
            {
                "name": model.name,
                "kind": kind,
                "family": model.family,
                "task": model.task,
                "path": model.path,
                "status": model.status,
                "reason": model.reason,
                "options": options.to_dict(),
                "defaults": defaults,
                "audio": audio,
                "description": f"{model.get_family_display()} "
                f"({model.get_task_display()})",
                "memory": memory,
            }
        )
    return rows
