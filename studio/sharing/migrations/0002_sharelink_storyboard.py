import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0001_initial"),
        ("storyboards", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sharelink",
            name="storyboard",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="share_links",
                to="storyboards.storyboard",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="sharelink",
            name="share_link_one_target",
        ),
        migrations.AddConstraint(
            model_name="sharelink",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("gallery__isnull", False),
                        ("generation__isnull", True),
                        ("storyboard__isnull", True),
                    ),
                    models.Q(
                        ("gallery__isnull", True),
                        ("generation__isnull", False),
                        ("storyboard__isnull", True),
                    ),
                    models.Q(
                        ("gallery__isnull", True),
                        ("generation__isnull", True),
                        ("storyboard__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="share_link_one_target",
            ),
        ),
    ]
