from __future__ import annotations

from django.db import migrations

FTS_TABLE = "prompts_prompt_fts"

# A frozen copy: later edits to the vocabulary must not rewrite history.
DEFAULT_STYLES = [
    (
        "Film noir",
        "black-and-white film noir, hard low-key light, deep shadows, venetian "
        "blind patterns",
        "colour, bright",
    ),
    (
        "Documentary handheld",
        "documentary style, handheld camera, natural light, slight shake",
        "staged, glossy",
    ),
    ("Anime", "anime style, cel shading, clean line art, vivid colours", "photo"),
    (
        "Claymation",
        "claymation, stop-motion, hand-made clay figures, visible fingerprints",
        "smooth cgi",
    ),
    (
        "1970s film stock",
        "shot on 1970s 35mm film stock, warm faded colours, soft grain, halation",
        "digital, sharp",
    ),
    (
        "Drone travel",
        "aerial drone footage, sweeping travel shot, golden hour light",
        "shaky",
    ),
    (
        "Product macro",
        "product macro shot, shallow depth of field, studio lighting, clean background",
        "clutter, text",
    ),
    (
        "Dreamy pastel",
        "soft pastel palette, hazy light, gentle bloom, dreamlike",
        "harsh contrast",
    ),
]


def create_index(apps, schema_editor):
    # Only SQLite has FTS5; PostgreSQL searches a tsvector at query time.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "title, text, notes, tags, tokenize = 'porter unicode61')"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def seed_styles(apps, schema_editor):
    StylePreset = apps.get_model("prompts", "StylePreset")
    for name, snippet, negative in DEFAULT_STYLES:
        StylePreset.objects.get_or_create(
            owner=None,
            name=name,
            defaults={"snippet": snippet, "negative_prompt": negative},
        )


def unseed_styles(apps, schema_editor):
    apps.get_model("prompts", "StylePreset").objects.filter(owner=None).delete()


class Migration(migrations.Migration):
    dependencies = [("prompts", "0001_initial")]

    operations = [
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(seed_styles, unseed_styles),
    ]
