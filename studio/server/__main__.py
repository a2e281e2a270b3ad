"""``python -m studio.server [daphne's options] studio.asgi:application``"""

from __future__ import annotations

from studio.server.edge import main

main()
