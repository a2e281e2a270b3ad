from __future__ import annotations

app_name = "storyboards"

urlpatterns: list = []
