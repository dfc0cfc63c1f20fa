"""Seed the four platforms the running application offers (TARGET_SCHEMA.md §3.1).

The platform's credential forms read ``platform_configs`` to know which fields each platform
needs; without these rows no user can connect an account. The values are those of the
platform's Alembic revision 014, keyed by ``platform_name`` instead of a generated id (R-23).

Idempotent (``update_or_create`` on the natural key) and reversible: the reverse deletes
exactly the four seeded platforms.
"""

from django.db import migrations


def _field(description):
    return {"type": "string", "description": description}


PLATFORM_CONFIGS = [
    {
        "platform_name": "twitter",
        "display_name": "Twitter/X",
        "requires_oauth": False,
        "requires_app_credentials": True,
        "required_fields": {
            "api_key": _field("Twitter API Key"),
            "api_secret": _field("Twitter API Secret"),
            "access_token": _field("Access Token"),
            "access_token_secret": _field("Access Token Secret"),
            "bearer_token": _field("Bearer Token"),
        },
        "optional_fields": {},
        "oauth_config": None,
        "api_base_url": "https://api.twitter.com/2",
        "setup_instructions": "Get your API keys from https://developer.twitter.com",
        "help_url": "https://developer.twitter.com/en/docs/authentication",
        "is_active": True,
    },
    {
        "platform_name": "linkedin",
        "display_name": "LinkedIn",
        "requires_oauth": True,
        "requires_app_credentials": True,
        "required_fields": {
            "client_id": _field("LinkedIn Client ID"),
            "client_secret": _field("LinkedIn Client Secret"),
            "access_token": _field("Access Token"),
        },
        "optional_fields": {"refresh_token": _field("Refresh Token")},
        "oauth_config": {
            "auth_url": "https://www.linkedin.com/oauth/v2/authorization",
            "token_url": "https://www.linkedin.com/oauth/v2/accessToken",
            "scopes": ["r_liteprofile", "r_emailaddress", "w_member_social"],
        },
        "api_base_url": "https://api.linkedin.com/v2",
        "setup_instructions": "Create an app at https://www.linkedin.com/developers/",
        "help_url": "https://docs.microsoft.com/en-us/linkedin/",
        "is_active": True,
    },
    {
        "platform_name": "instagram",
        "display_name": "Instagram Business",
        "requires_oauth": True,
        "requires_app_credentials": True,
        "required_fields": {
            "app_id": _field("Instagram App ID"),
            "app_secret": _field("Instagram App Secret"),
            "access_token": _field("Access Token"),
            "business_account_id": _field("Instagram Business Account ID"),
        },
        "optional_fields": {},
        "oauth_config": None,
        "api_base_url": "https://graph.facebook.com",
        "setup_instructions": "Set up Instagram Business API through Facebook Developers",
        "help_url": "https://developers.facebook.com/docs/instagram-api/",
        "is_active": True,
    },
    {
        "platform_name": "facebook",
        "display_name": "Facebook Pages",
        "requires_oauth": True,
        "requires_app_credentials": True,
        "required_fields": {
            "app_id": _field("Facebook App ID"),
            "app_secret": _field("Facebook App Secret"),
            "access_token": _field("Page Access Token"),
            "page_id": _field("Facebook Page ID"),
        },
        "optional_fields": {},
        "oauth_config": None,
        "api_base_url": "https://graph.facebook.com",
        "setup_instructions": "Create an app at https://developers.facebook.com",
        "help_url": "https://developers.facebook.com/docs/pages-api/",
        "is_active": True,
    },
]


def seed_platform_configs(apps, schema_editor):
    """Insert or update the platform_configs rows of the supported platforms (new table)."""
    PlatformConfig = apps.get_model("accounts", "PlatformConfig")
    for row in PLATFORM_CONFIGS:
        values = dict(row)
        platform_name = values.pop("platform_name")
        PlatformConfig.objects.using(schema_editor.connection.alias).update_or_create(
            platform_name=platform_name, defaults=values
        )


def unseed_platform_configs(apps, schema_editor):
    """Delete the seeded platform_configs rows."""
    PlatformConfig = apps.get_model("accounts", "PlatformConfig")
    PlatformConfig.objects.using(schema_editor.connection.alias).filter(
        platform_name__in=[row["platform_name"] for row in PLATFORM_CONFIGS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_account_security_and_admin_tables"),
    ]

    operations = [
        migrations.RunPython(seed_platform_configs, unseed_platform_configs),
    ]
