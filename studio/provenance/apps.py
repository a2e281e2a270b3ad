from __future__ import annotations

from django.apps import AppConfig


class ProvenanceConfig(AppConfig):
    name = "studio.provenance"
    label = "provenance"

    def ready(self) -> None:
        # Every MP4 and poster the studio writes carries its watermark: the
        # studio's id, and the clip's number when the file is a clip's.
        from generation import encode
        from studio.provenance.identity import payload_for

        encode.set_watermark_payload(payload_for)
