"""Seed the six global content categories (TARGET_SCHEMA.md §3.4).

The running application classifies content into these categories and offers them in its
template forms. The values are those of the platform's Alembic revision 003, keyed by
``slug`` instead of a generated id (R-23).

Idempotent (``update_or_create`` on the natural key) and reversible: the reverse deletes
exactly the six seeded categories.
"""

from django.db import migrations

# (name, slug, description, color, keywords)
CATEGORIES = [
    (
        "Technology",
        "technology",
        "Technology trends, AI, software development",
        "#3B82F6",
        ["AI", "machine learning", "software", "development", "tech", "innovation"],
    ),
    (
        "Marketing",
        "marketing",
        "Marketing strategies, social media, advertising",
        "#10B981",
        ["marketing", "social media", "advertising", "branding", "campaigns"],
    ),
    (
        "Business",
        "business",
        "Business insights, entrepreneurship, strategy",
        "#F59E0B",
        ["business", "entrepreneurship", "strategy", "leadership", "growth"],
    ),
    (
        "Industry News",
        "industry-news",
        "Latest industry news and updates",
        "#EF4444",
        ["news", "industry", "updates", "trends", "announcements"],
    ),
    (
        "Educational",
        "educational",
        "How-to guides, tutorials, educational content",
        "#8B5CF6",
        ["tutorial", "how-to", "education", "guide", "learning"],
    ),
    (
        "Personal",
        "personal",
        "Personal insights, behind-the-scenes, company culture",
        "#F97316",
        ["personal", "culture", "team", "behind-the-scenes", "insights"],
    ),
]


def seed_categories(apps, schema_editor):
    """Insert or update the default content_categories rows (new table)."""
    ContentCategory = apps.get_model("content", "ContentCategory")
    for name, slug, description, color, keywords in CATEGORIES:
        ContentCategory.objects.using(schema_editor.connection.alias).update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "color": color,
                "keywords": keywords,
            },
        )


def unseed_categories(apps, schema_editor):
    """Delete the seeded content_categories rows."""
    ContentCategory = apps.get_model("content", "ContentCategory")
    ContentCategory.objects.using(schema_editor.connection.alias).filter(
        slug__in=[row[1] for row in CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0003_drafts_and_schedules_connections"),
    ]

    operations = [
        migrations.RunPython(seed_categories, unseed_categories),
    ]
