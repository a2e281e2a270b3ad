from __future__ import annotations

app_name = "galleries"

urlpatterns: list = []
