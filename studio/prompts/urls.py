from __future__ import annotations

app_name = "prompts"

urlpatterns: list = []
