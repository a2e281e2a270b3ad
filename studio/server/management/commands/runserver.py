"""``runserver`` on the studio's server, so that development serves exactly
what production does (Daphne's command, with the edge of studio.server)."""

from __future__ import annotations

from daphne.management.commands.runserver import Command as DaphneRunserver

from studio.server.edge import Server


class Command(DaphneRunserver):
    server_cls = Server
