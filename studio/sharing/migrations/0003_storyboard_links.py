"""Storyboard links become share links: the same digest, so every token
handed out keeps opening the cut, with its label, dates and revocation."""

from django.db import migrations


def copy_storyboard_links(apps, schema_editor):
    StoryboardLink = apps.get_model("storyboards", "StoryboardLink")
    ShareLink = apps.get_model("sharing", "ShareLink")
    old = StoryboardLink.objects.select_related("storyboard").order_by("pk")
    ShareLink.objects.bulk_create(
        [
            ShareLink(
                owner_id=link.storyboard.owner_id,
                storyboard_id=link.storyboard_id,
                label=link.label,
                digest=link.digest,
                created=link.created,
                revoked=link.revoked,
            )
            for link in old.iterator()
        ],
        batch_size=500,
    )


def copy_back(apps, schema_editor):
    # The old kind has no expiry: a link that has one stops opening rather
    # than opening for ever. View counts are lost.
    StoryboardLink = apps.get_model("storyboards", "StoryboardLink")
    ShareLink = apps.get_model("sharing", "ShareLink")
    links = ShareLink.objects.filter(storyboard__isnull=False).order_by("pk")
    StoryboardLink.objects.bulk_create(
        [
            StoryboardLink(
                storyboard_id=link.storyboard_id,
                label=link.label,
                digest=link.digest,
                created=link.created,
                revoked=link.revoked or link.expires,
            )
            for link in links.iterator()
        ],
        batch_size=500,
    )
    links.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0002_sharelink_storyboard"),
        ("storyboards", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_storyboard_links, copy_back)]
