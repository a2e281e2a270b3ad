from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.specs import GenerationSpec, StepEvent
from studio.generations.services import SubmitError, generation_specs

# The flag that sets each setting (the API's names).
FLAG_FOR = {
    "num_frames": "--frames",
    "steps": "--steps",
    "guidance": "--guidance",
    "negative_prompt": "--negative",
    "__all__": "generate",
}


class Command(BaseCommand):
    help = (
        "Render one clip from a prompt into an MP4 file. Settings left out "
        "take the model's defaults."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("prompt")
        parser.add_argument("--out", required=True, help="where to write the MP4")
        parser.add_argument("--model", default=settings.STUDIO_DEFAULT_MODEL)
        parser.add_argument(
            "--frames", type=int, help="the model's default if left out"
        )
        parser.add_argument("--fps", type=int)
        parser.add_argument("--width", type=int)
        parser.add_argument("--height", type=int)
        parser.add_argument("--steps", type=int)
        parser.add_argument("--seed", type=int, default=None, help="random if left out")
        parser.add_argument("--guidance", type=float)
        parser.add_argument("--negative", default=None)
        parser.add_argument("--device", default=settings.STUDIO_DEVICE)

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        if out.suffix.lower() != ".mp4":
            raise CommandError("--out must name an .mp4 file.")
        given = {
            "prompt": options["prompt"],
            "negative_prompt": options["negative"],
            "model": options["model"],
            "num_frames": options["frames"],
            "fps": options["fps"],
            "width": options["width"],
            "height": options["height"],
            "steps": options["steps"],
            "guidance": options["guidance"],
            "seed": options["seed"],
        }
        try:
            # Checked and expanded as the page and the API do it.
            specs = generation_specs(
                settings={k: v for k, v in given.items() if v is not None}
            )
        except SubmitError as exc:
            name, messages = next(iter(exc.errors.items()))
            flag = FLAG_FOR.get(name, f"--{name}")
            raise CommandError(f"{flag}: {messages[0]}") from exc
        if len(specs) > 1:
            raise CommandError(
                f"The prompt makes {len(specs)} variations and --out names one "
                "file; pick one option of each {a|b}."
            )
        result = self._render(specs[0], out, options["device"])
        self.stdout.write(str(result))

    def _render(self, spec: GenerationSpec, out: Path, device: str) -> Path:
        from generation.service import GenerationService, failure_reason
        from studio.lib.credentials import clip_signer

        # Content Credentials on every MP4 the studio writes, the CLI's too.
        service = GenerationService(
            store=None, sink=None, device=device, signer=clip_signer()
        )
        bar = tqdm(
            total=spec.num_inference_steps, unit="step", file=sys.stderr, leave=True
        )

        def on_step(event: StepEvent) -> None:
            bar.update(event.step - bar.n)

        with tempfile.TemporaryDirectory(prefix="generate-") as tmp:
            try:
                result = service.run_spec(spec, tmp, on_step=on_step)
            except Exception as exc:
                raise CommandError(failure_reason(exc)) from exc
            finally:
                bar.close()
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(result.video_path, out)
        self.stderr.write(
            f"{spec.num_frames} frames, {spec.width}×{spec.height}, seed {spec.seed}, "
            f"{result.seconds:.2f} s"
        )
        return out
