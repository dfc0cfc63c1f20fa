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
import database.online.ddl
from database.online.operations import SeparateDatabaseAndState
from database.online.recipes import OnlineAddField, OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_accounts_json_to_jsonb_and_timestamptz"),
    ]

    operations = [
        OnlineAlterField("user", "is_active", models.BooleanField(db_default=True, null=True)),
        OnlineAlterField("user", "tier", models.CharField(db_default="base", null=True)),
        OnlineAlterField("user", "auth_provider", models.CharField(db_default="local", null=True)),
        OnlineAlterField(
            "user", "two_factor_enabled", models.BooleanField(db_default=False, null=True)
        ),
        OnlineAlterField(
            "adminuser", "is_active", models.BooleanField(db_default=True, null=True)
        ),
        OnlineAlterField(
            "usersettings", "connected_accounts", models.JSONField(db_default={}, null=True)
        ),
        OnlineAlterField(
            "notification", "notification_metadata", models.JSONField(db_default={}, null=True)
        ),
        # admin_users' new columns in production's order (a fresh build equals an adopted one).
        OnlineAddField("adminuser", "full_name", models.CharField(null=True)),
        OnlineAddField("adminuser", "is_superuser", models.BooleanField(db_default=False)),
        OnlineAddField("adminuser", "failed_login_attempts", models.IntegerField(db_default=0)),
        OnlineAddField(
            "adminuser", "locked_until", database.fields.NaiveUTCDateTimeField(null=True)
        ),
        # Kept: now() defaults (the state's Now() is statement_timestamp()), enum role, named FKs,
        # and the two_factor columns between them (production's column order).
        SeparateDatabaseAndState(
            database_operations=[
                database.online.ddl.RunDDL(
                    [
                        "ALTER TABLE users ALTER COLUMN created_at SET DEFAULT now()",
                        # The role's new type and its CHECK in one statement, taken only while
                        # the column is still the enum: re-typing a column re-parses its CHECK
                        # into another normal form, so a re-run must not retype it.
                        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_attribute a "
                        "JOIN pg_type t ON t.oid = a.atttypid "
                        "WHERE a.attrelid = 'admin_users'::regclass AND a.attname = 'role' "
                        "AND t.typname = 'adminrole') THEN "
                        "ALTER TABLE admin_users "
                        "ALTER COLUMN role TYPE character varying(20) USING role::text, "
                        "ALTER COLUMN role SET DEFAULT 'ADMIN', "
                        "ADD CONSTRAINT admin_users_role_valid "
                        "CHECK (role IN ('SUPER_ADMIN', 'ADMIN', 'MODERATOR', 'SUPPORT')); "
                        "END IF; END $$",
                        "ALTER TABLE admin_users "
                        "ALTER COLUMN created_at SET DEFAULT now(), "
                        "ADD COLUMN IF NOT EXISTS password_changed_at timestamp without time zone DEFAULT now(), "
                        "ADD COLUMN IF NOT EXISTS two_factor_enabled boolean NOT NULL DEFAULT false, "
                        "ADD COLUMN IF NOT EXISTS two_factor_secret character varying, "
                        "ADD COLUMN IF NOT EXISTS updated_at timestamp without time zone DEFAULT now(), "
                        "ADD COLUMN IF NOT EXISTS created_by integer CONSTRAINT admin_users_created_by_fkey "
                        "REFERENCES admin_users (id) ON DELETE SET NULL, "
                        "ADD COLUMN IF NOT EXISTS updated_by integer CONSTRAINT admin_users_updated_by_fkey "
                        "REFERENCES admin_users (id) ON DELETE SET NULL",
                        "DROP TYPE IF EXISTS adminrole",
                    ],
                    reverse_statements=[
                        "DO $$ BEGIN CREATE TYPE public.adminrole AS ENUM ('SUPER_ADMIN', 'ADMIN', 'MODERATOR'); "
                        "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                        "ALTER TABLE admin_users DROP CONSTRAINT IF EXISTS admin_users_role_valid, "
                        "DROP COLUMN IF EXISTS updated_by, DROP COLUMN IF EXISTS created_by, DROP COLUMN IF EXISTS updated_at, "
                        "DROP COLUMN IF EXISTS two_factor_secret, DROP COLUMN IF EXISTS two_factor_enabled, "
                        "DROP COLUMN IF EXISTS password_changed_at, ALTER COLUMN created_at DROP DEFAULT, "
                        "ALTER COLUMN role DROP DEFAULT, "
                        "ALTER COLUMN role TYPE public.adminrole USING role::public.adminrole",
                        "ALTER TABLE users ALTER COLUMN created_at DROP DEFAULT",
                    ],
                    tables=["users", "admin_users"],
                ),
                database.online.ddl.CreateIndex(
                    "admin_users", "admin_users_created_by_idx", ["created_by"]
                ),
                database.online.ddl.CreateIndex(
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
                    model_name="user",
                    name="created_at",
                    field=models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), null=True
                    ),
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
