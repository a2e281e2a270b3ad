"""Make the built-in model's examples for its knowledge page, once per weights."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from studio.registry import knowledge


class Command(BaseCommand):
    help = (
        "Render every term of the built-in model's world with the model itself "
        "(32 px, a small looping WebP each) for the page of what it knows."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Make them again even if present."
        )
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated terms to make, e.g. colour-red,motion-bounce.",
        )

    def handle(self, *args, force: bool = False, only: str = "", **options):
        known = {term.slug for term in knowledge.all_terms()}
        chosen = {slug.strip() for slug in only.split(",") if slug.strip()} or None
        if chosen is not None and (unknown := sorted(chosen - known)[:5]):
            raise CommandError(f"Unknown terms: {', '.join(unknown)}.")
        todo = len(chosen or known)
        started = time.perf_counter()
        with tqdm(total=todo, unit="example", disable=None) as bar:
            made, folder = knowledge.make_model_examples(
                force=force, only=chosen, progress=lambda term: bar.update(1)
            )
        seconds = time.perf_counter() - started
        self.stderr.write(f"made {made} examples in {seconds:.1f} s")
        self.stdout.write(str(folder))
