from django.db import migrations


class Migration(migrations.Migration):
    # Its rows were copied into share links first.
    dependencies = [
        ("sharing", "0003_storyboard_links"),
        ("storyboards", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(
            name="StoryboardLink",
        ),
    ]
