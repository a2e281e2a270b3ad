"""Serve the studio for the browser tests through the production server,
``python -m studio.server`` (Daphne with the studio's limits).

Usage: python -m tests.browser.serve PORT

Until the built-in model has trained weights, the tiny random-weight pipeline
stands in for it, so the page flow can be exercised end to end.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    port = sys.argv[1]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from generation.adapters import builtin as builtin_adapter
    from generation.adapters import register

    if not (builtin_adapter.WEIGHTS_DIR / "model_index.json").is_file():
        from generation.builtin.pipeline import tiny_random_pipeline

        register(
            "builtin",
            lambda device: builtin_adapter.BuiltinAdapter(
                tiny_random_pipeline(), device=device
            ),
            family="builtin",
            validate=builtin_adapter.validate,
        )
    from studio.server.edge import CommandLineInterface

    CommandLineInterface().run(
        ["--bind", "127.0.0.1", "--port", port, "studio.asgi:application"]
    )


if __name__ == "__main__":
    main()
