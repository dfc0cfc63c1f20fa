from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0008_lock_timeout")]

    operations = [
        migrations.RunPython(migrations.RunPython.noop),
        migrations.RunSQL("DO $$ BEGIN PERFORM 1; END $$"),
    ]
