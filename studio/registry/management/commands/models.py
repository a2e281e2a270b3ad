from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from generation.adapters import FAMILIES
from generation.adapters.options import ATTENTION_BACKENDS, DTYPES, OFFLOADS
from studio.registry.services import (
    AUDIO_FAMILIES,
    RegistryError,
    model_add,
    model_kind,
    model_remove,
    model_rows,
)


class Command(BaseCommand):
    help = (
        "Register, list and remove real models (local diffusers folders): video "
        "models, and Stable Audio folders that make sound."
    )

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="register a model folder")
        add.add_argument("name")
        add.add_argument(
            "--family",
            default="",
            choices=[*FAMILIES, *AUDIO_FAMILIES],
            help="read from the folder's model_index.json when left out",
        )
        add.add_argument("--path", required=True, help="a diffusers folder or hub id")
        add.add_argument(
            "--task",
            default="",
            choices=["t2v", "i2v", "v2v", "t2a"],
            help="the family's first task when left out (t2v; t2a for audio)",
        )
        add.add_argument("--dtype", default="auto", choices=["auto", *DTYPES])
        add.add_argument("--offload", default="none", choices=list(OFFLOADS))
        add.add_argument("--vae-tiling", action="store_true")
        add.add_argument("--vae-slicing", action="store_true")
        add.add_argument(
            "--attention-backend", default="", choices=list(ATTENTION_BACKENDS)
        )
        actions.add_parser("list", help="list every model and its status")
        remove = actions.add_parser("remove", help="forget a model")
        remove.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            self._add(options)
        elif action == "remove":
            if not model_remove(name=options["name"]):
                raise CommandError(f"There is no model called {options['name']!r}.")
            self.stdout.write(f"Removed {options['name']}.")
        else:
            self._list()

    def _add(self, options: dict[str, Any]) -> None:
        try:
            model = model_add(
                name=options["name"],
                family=options["family"],
                path=options["path"],
                task=options["task"],
                options={
                    "dtype": options["dtype"],
                    "offload": options["offload"],
                    "vae_tiling": options["vae_tiling"],
                    "vae_slicing": options["vae_slicing"],
                    "attention_backend": options["attention_backend"],
                },
            )
        except RegistryError as error:
            raise CommandError(str(error)) from error
        if model.reason:
            self.stderr.write(f"Registered {model.name}, unavailable: {model.reason}")
        else:
            line = f"Registered {model.name} ({model.family}, {model.task})."
            if model_kind(model.family) == "audio":
                line += " It makes audio: offered for sound, not for clips."
            self.stdout.write(line)

    def _list(self) -> None:
        rows = model_rows()
        columns = ("name", "family", "task", "path", "status")
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
        header = "  ".join(c.upper().ljust(widths[c]) for c in columns)
        self.stdout.write(header.rstrip())
        for row in rows:
            line = "  ".join(str(row[c]).ljust(widths[c]) for c in columns)
            if row["reason"]:
                line += f"  ({row['reason']})"
            self.stdout.write(line.rstrip())
        registered = {row["family"] for row in rows}
        missing = [family for family in FAMILIES if family not in registered]
        if missing:
            self.stdout.write(
                "Families with no model yet: " + ", ".join(missing) + " "
                "(python manage.py models add NAME --family FAMILY --path DIR)"
            )
