"""Bring users, admin_users, user_settings and notifications to the target (TARGET_SCHEMA.md §4).

- users: the database defaults the application assumes (created_at now(), is_active true,
  tier 'base', auth_provider 'local', two_factor_enabled false); existing rows keep their
  values, NULL created_at included (D7).
- admin_users: the role becomes varchar(20) with a CHECK over the four role names and the
  enum type goes (R-7); the missing columns arrive with catalog-only defaults; created_by
  and updated_by reference admin_users with ON DELETE SET NULL and are indexed. The table
  is small: its role rewrite is a brief lock.
- user_settings: connected_accounts defaults to '{}'; the user foreign key cascades (R-31),
  switched through a validated twin constraint.
- notifications: notification_metadata defaults to '{}'.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

import database.fields
import database.online
from database.operations import SeparateDatabaseAndState
from database.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_accounts_json_to_jsonb_and_timestamptz"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.online.RunDDL(
                    [
                        "ALTER TABLE users ALTER COLUMN created_at SET DEFAULT now(), "
                        "ALTER COLUMN is_active SET DEFAULT true, "
                        "ALTER COLUMN tier SET DEFAULT 'base', "
                        "ALTER COLUMN auth_provider SET DEFAULT 'local', "
                        "ALTER COLUMN two_factor_enabled SET DEFAULT false",
                        "ALTER TABLE admin_users "
                        "ALTER COLUMN role TYPE character varying(20) USING role::text, "
                        "ALTER COLUMN role SET DEFAULT 'ADMIN', "
                        "ALTER COLUMN is_active SET DEFAULT true, "
                        "ALTER COLUMN created_at SET DEFAULT now(), "
                        "ADD COLUMN IF NOT EXISTS full_name character varying, "
                        "ADD COLUMN IF NOT EXISTS is_superuser boolean NOT NULL DEFAULT false, "
                        "ADD COLUMN IF NOT EXISTS failed_login_attempts integer NOT NULL DEFAULT 0, "
                        "ADD COLUMN IF NOT EXISTS locked_until timestamp without time zone, "
                        "ADD COLUMN IF NOT EXISTS password_changed_at timestamp without time zone DEFAULT now(), "
                        "ADD COLUMN IF NOT EXISTS two_factor_enabled boolean NOT NULL DEFAULT false, "
                        "ADD COLUMN IF NOT EXISTS two_factor_secret character varying, "
                        "ADD COLUMN IF NOT EXISTS updated_at timestamp without time zone DEFAULT now(), "
                        "ADD COLUMN IF NOT EXISTS created_by integer CONSTRAINT admin_users_created_by_fkey "
                        "REFERENCES admin_users (id) ON DELETE SET NULL, "
                        "ADD COLUMN IF NOT EXISTS updated_by integer CONSTRAINT admin_users_updated_by_fkey "
                        "REFERENCES admin_users (id) ON DELETE SET NULL",
                        # ADD CONSTRAINT has no IF NOT EXISTS: guarded so that a re-run resumes.
                        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_constraint "
                        "WHERE conrelid = 'admin_users'::regclass "
                        "AND conname = 'admin_users_role_valid') THEN "
                        "ALTER TABLE admin_users ADD CONSTRAINT admin_users_role_valid "
                        "CHECK (role IN ('SUPER_ADMIN', 'ADMIN', 'MODERATOR', 'SUPPORT')); "
                        "END IF; END $$",
                        "DROP TYPE IF EXISTS adminrole",
                        "ALTER TABLE user_settings "
                        "ALTER COLUMN connected_accounts SET DEFAULT '{}'::jsonb",
                        "ALTER TABLE notifications "
                        "ALTER COLUMN notification_metadata SET DEFAULT '{}'::jsonb",
                    ],
                    reverse_statements=[
                        "ALTER TABLE notifications ALTER COLUMN notification_metadata DROP DEFAULT",
                        "ALTER TABLE user_settings ALTER COLUMN connected_accounts DROP DEFAULT",
                        "DO $$ BEGIN CREATE TYPE public.adminrole AS ENUM ('SUPER_ADMIN', 'ADMIN', 'MODERATOR'); "
                        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                        "ALTER TABLE admin_users DROP CONSTRAINT IF EXISTS admin_users_role_valid, "
                        "DROP COLUMN IF EXISTS updated_by, DROP COLUMN IF EXISTS created_by, DROP COLUMN IF EXISTS updated_at, "
                        "DROP COLUMN IF EXISTS two_factor_secret, DROP COLUMN IF EXISTS two_factor_enabled, "
                        "DROP COLUMN IF EXISTS password_changed_at, DROP COLUMN IF EXISTS locked_until, "
                        "DROP COLUMN IF EXISTS failed_login_attempts, DROP COLUMN IF EXISTS is_superuser, "
                        "DROP COLUMN IF EXISTS full_name, ALTER COLUMN created_at DROP DEFAULT, "
                        "ALTER COLUMN is_active DROP DEFAULT, ALTER COLUMN role DROP DEFAULT, "
                        "ALTER COLUMN role TYPE public.adminrole USING role::public.adminrole",
                        "ALTER TABLE users ALTER COLUMN created_at DROP DEFAULT, "
                        "ALTER COLUMN is_active DROP DEFAULT, ALTER COLUMN tier DROP DEFAULT, "
                        "ALTER COLUMN auth_provider DROP DEFAULT, "
                        "ALTER COLUMN two_factor_enabled DROP DEFAULT",
                    ],
                ),
                database.online.CreateIndex(
                    "admin_users", "admin_users_created_by_idx", ["created_by"]
                ),
                database.online.CreateIndex(
                    "admin_users", "admin_users_updated_by_idx", ["updated_by"]
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="adminuser",
                    name="created_by",
                    field=models.ForeignKey(
                        db_column="created_by",
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.adminuser",
                    ),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="failed_login_attempts",
                    field=models.IntegerField(db_default=0),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="full_name",
                    field=models.CharField(null=True),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="is_superuser",
                    field=models.BooleanField(db_default=False),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="locked_until",
                    field=database.fields.NaiveUTCDateTimeField(null=True),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="password_changed_at",
                    field=database.fields.NaiveUTCDateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), null=True
                    ),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="two_factor_enabled",
                    field=models.BooleanField(db_default=False),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="two_factor_secret",
                    field=models.CharField(null=True),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="updated_at",
                    field=database.fields.NaiveUTCDateTimeField(
                        auto_now=True,
                        db_default=django.db.models.functions.datetime.Now(),
                        null=True,
                    ),
                ),
                migrations.AddField(
                    model_name="adminuser",
                    name="updated_by",
                    field=models.ForeignKey(
                        db_column="updated_by",
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="accounts.adminuser",
                    ),
                ),
                migrations.AlterField(
                    model_name="adminuser",
                    name="created_at",
                    field=database.fields.NaiveUTCDateTimeField(
                        db_default=django.db.models.functions.datetime.Now()
                    ),
                ),
                migrations.AlterField(
                    model_name="adminuser",
                    name="is_active",
                    field=models.BooleanField(db_default=True, null=True),
                ),
                migrations.AlterField(
                    model_name="adminuser",
                    name="role",
                    field=models.CharField(
                        choices=[
                            ("SUPER_ADMIN", "Super admin"),
                            ("ADMIN", "Admin"),
                            ("MODERATOR", "Moderator"),
                            ("SUPPORT", "Support"),
                        ],
                        db_default="ADMIN",
                        max_length=20,
                    ),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="notification_metadata",
                    field=models.JSONField(db_default={}, null=True),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="auth_provider",
                    field=models.CharField(db_default="local", null=True),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="created_at",
                    field=models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), null=True
                    ),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="is_active",
                    field=models.BooleanField(db_default=True, null=True),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="tier",
                    field=models.CharField(db_default="base", null=True),
                ),
                migrations.AlterField(
                    model_name="user",
                    name="two_factor_enabled",
                    field=models.BooleanField(db_default=False, null=True),
                ),
                migrations.AlterField(
                    model_name="usersettings",
                    name="connected_accounts",
                    field=models.JSONField(db_default={}, null=True),
                ),
                migrations.AddIndex(
                    model_name="adminuser",
                    index=models.Index(fields=["created_by"], name="admin_users_created_by_idx"),
                ),
                migrations.AddIndex(
                    model_name="adminuser",
                    index=models.Index(fields=["updated_by"], name="admin_users_updated_by_idx"),
                ),
                migrations.AddConstraint(
                    model_name="adminuser",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("role__in", ["SUPER_ADMIN", "ADMIN", "MODERATOR", "SUPPORT"])
                        ),
                        name="admin_users_role_valid",
                    ),
                ),
            ],
        ),
        OnlineAlterField(
            "usersettings",
            "user",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="settings_rows",
                to="accounts.user",
            ),
        ),
    ]
