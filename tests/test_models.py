"""The domain models: factories, round trips, database defaults, constraints, on_delete.

Also checks the catalog of the new tables (everything but the 16 legacy ones): every
foreign key is indexed and no index is redundant.
"""

import importlib
import inspect
import uuid
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError, RestrictedError
from factory.django import DjangoModelFactory

from database.fields import TextUUIDPrimaryKey, UUIDPrimaryKey
from database.schema import baseline

DOMAIN_APPS = ["accounts", "organizations", "goals", "content", "social", "workflows", "research"]
LEGACY_TABLES = set(baseline.load_snapshot()["tables"])


def domain_models():
    return [model for label in DOMAIN_APPS for model in apps.get_app_config(label).get_models()]


def all_factories():
    factories = []
    for label in DOMAIN_APPS:
        module = importlib.import_module(f"{label}.factories")
        factories += [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, DjangoModelFactory)
            and obj.__module__ == module.__name__
            and obj._meta.model is not None
        ]
    return factories


FACTORIES = sorted(all_factories(), key=lambda factory: factory.__name__)
NEW_MODELS = [model for model in domain_models() if model._meta.db_table not in LEGACY_TABLES]
PUBLIC_ID_MODELS = [
    model
    for model in domain_models()
    if any(field.name == "public_id" for field in model._meta.concrete_fields)
    and model._meta.db_table not in LEGACY_TABLES
]


def test_every_domain_model_has_exactly_one_factory():
    models_with_factories = [factory._meta.model for factory in FACTORIES]

    assert sorted(map(str, models_with_factories)) == sorted(map(str, domain_models()))
    assert len(NEW_MODELS) == 35


@pytest.mark.django_db
@pytest.mark.parametrize("factory", FACTORIES, ids=lambda factory: factory.__name__)
def test_factory_instance_saves_and_reloads_with_equal_values(factory):
    instance = factory()
    model = type(instance)

    reloaded = model.objects.get(pk=instance.pk)

    for field in model._meta.concrete_fields:
        assert getattr(reloaded, field.attname) == getattr(instance, field.attname), field.name


@pytest.mark.django_db
@pytest.mark.parametrize("model", PUBLIC_ID_MODELS, ids=lambda model: model._meta.db_table)
def test_public_id_is_filled_by_the_database_and_distinct(model):
    factory = next(factory for factory in FACTORIES if factory._meta.model is model)

    first, second = factory(), factory()

    assert isinstance(first.public_id, uuid.UUID)
    assert isinstance(second.public_id, uuid.UUID)
    assert first.public_id != second.public_id
    assert model.objects.get(public_id=first.public_id).pk == first.pk


def test_the_new_tables_whose_header_says_public_id_have_one():
    # The spec's 17, less memory_embeddings, which comes with the optional pgvector app (D2),
    # and less the ten whose platform key is already a UUID (D15): content_drafts,
    # content_items, content_schedules, content_templates, organization_invitations,
    # organizations, social_connections, social_post_templates, social_posts, teams.
    assert sorted(model._meta.db_table for model in PUBLIC_ID_MODELS) == [
        "goals",
        "memory_content",
        "milestones",
        "research_data",
        "user_credentials",
        "workflow_executions",
    ]


def test_tables_keyed_by_a_uuid_have_no_second_one():
    uuid_keyed = [
        model._meta.db_table
        for model in PUBLIC_ID_MODELS
        if isinstance(model._meta.pk, TextUUIDPrimaryKey | UUIDPrimaryKey)
    ]
    assert uuid_keyed == []


@pytest.mark.django_db
def test_new_rows_take_the_database_defaults():
    from goals.factories import GoalFactory
    from organizations.factories import OrganizationFactory

    goal = GoalFactory()
    organization = OrganizationFactory()

    assert goal.status == "active"
    assert goal.current_value == 0.0
    assert goal.goal_metadata == {}
    assert goal.created_at is not None
    assert goal.updated_at is not None  # auto_now, which also stamps the insert
    assert organization.features_enabled == ["basic_posting", "scheduling", "analytics"]
    assert (organization.plan_type, organization.max_users) == ("starter", 5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factory_path", "column"),
    [
        ("goals.factories.GoalFactory", "status"),
        ("content.factories.ContentItemFactory", "performance_tier"),
        ("social.factories.SocialPostFactory", "status"),
        ("organizations.factories.OrganizationInvitationFactory", "status"),
    ],
)
def test_check_constraint_rejects_a_value_outside_the_vocabulary(factory_path, column):
    module_name, name = factory_path.rsplit(".", 1)
    factory = getattr(importlib.import_module(module_name), name)

    with pytest.raises(IntegrityError, match=f"{column}_valid"), transaction.atomic():
        factory(**{column: "bogus"})


@pytest.mark.django_db
def test_check_constraint_accepts_null_in_a_nullable_column():
    from goals.factories import GoalProgressFactory

    progress = GoalProgressFactory(source=None)

    assert type(progress).objects.get(pk=progress.pk).source is None


@pytest.mark.django_db
def test_deleting_an_admin_with_audit_logs_is_protected():
    from accounts.factories import AdminAuditLogFactory

    log = AdminAuditLogFactory()

    with pytest.raises(ProtectedError):
        log.admin_user.delete()
    assert type(log).objects.filter(pk=log.pk).exists()


@pytest.mark.django_db
def test_deleting_an_organization_owner_is_protected():
    from organizations.factories import OrganizationFactory

    organization = OrganizationFactory()

    with pytest.raises(ProtectedError):
        organization.owner.delete()


@pytest.mark.django_db
def test_deleting_a_team_nulls_the_invitations_that_target_it():
    from organizations.factories import OrganizationInvitationFactory, TeamFactory

    team = TeamFactory()
    invitation = OrganizationInvitationFactory(organization=team.organization, team=team)

    team.delete()

    invitation.refresh_from_db()
    assert invitation.team is None
    assert invitation.organization_id == team.organization_id


@pytest.mark.django_db
def test_deleting_a_connection_keeps_its_audit_entries():
    from social.factories import SocialAuditFactory

    entry = SocialAuditFactory()

    entry.connection.delete()

    entry.refresh_from_db()
    assert entry.connection_id is None


@pytest.mark.django_db
def test_a_connection_with_posts_cannot_be_deleted_but_its_user_can():
    from social.factories import SocialPostFactory
    from social.models import SocialPlatformConnection, SocialPost

    post = SocialPostFactory()

    with pytest.raises(RestrictedError), transaction.atomic():
        post.connection.delete()
    post.user.delete()

    assert not SocialPost.objects.filter(pk=post.pk).exists()
    assert not SocialPlatformConnection.objects.filter(pk=post.connection_id).exists()


SEEDS = [
    ("accounts.migrations.0003_seed_platform_configs", "seed_platform_configs"),
    ("organizations.migrations.0002_seed_roles_and_permissions", "seed"),
    ("content.migrations.0004_seed_content_categories", "seed_categories"),
]


def seeded_counts():
    from accounts.models import PlatformConfig
    from content.models import ContentCategory
    from organizations.models import Permission, Role, RolePermission

    return {
        "platform_configs": PlatformConfig.objects.count(),
        "roles": Role.objects.count(),
        "permissions": Permission.objects.count(),
        "role_permissions": RolePermission.objects.count(),
        "content_categories": ContentCategory.objects.count(),
    }


@pytest.mark.django_db
def test_seed_migrations_ran_and_are_idempotent():
    expected = {
        "platform_configs": 4,
        "roles": 6,
        "permissions": 23,
        "role_permissions": 23 + 21 + 17 + 10 + 10 + 7,
        "content_categories": 6,
    }
    assert seeded_counts() == expected

    for module_name, function in SEEDS:
        seed = getattr(importlib.import_module(module_name), function)
        seed(apps, SimpleNamespace(connection=connection))

    assert seeded_counts() == expected


@pytest.mark.django_db
def test_super_admin_holds_every_permission_and_viewer_only_reads():
    from organizations.models import Permission, Role

    super_admin = Role.objects.get(name="super_admin")
    viewer = Role.objects.get(name="viewer")

    assert super_admin.permissions.count() == Permission.objects.count() == 23
    assert set(viewer.permissions.values_list("action", flat=True)) == {"read"}


NEW_TABLES = sorted(model._meta.db_table for model in NEW_MODELS)
DOMAIN_TABLES = sorted(model._meta.db_table for model in domain_models())

UNINDEXED_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f'
  AND c.conrelid::regclass::text = ANY(%s)
  AND NOT EXISTS (
      SELECT 1 FROM pg_index i
      WHERE i.indrelid = c.conrelid
        AND i.indisvalid
        AND i.indpred IS NULL
        AND i.indkey[0] = c.conkey[1]
  )
ORDER BY 1, 2
"""

# Pairs (a, b) of indexes on one table, same access method and predicate, where a's key
# columns are a prefix of b's (or equal). a is redundant unless it enforces uniqueness and
# b does not; two equal unique indexes are redundant too.
REDUNDANT_INDEXES = """
WITH idx AS (
    SELECT i.indexrelid, i.indrelid, i.indisunique, ic.relam AS am,
           pg_get_expr(i.indpred, i.indrelid) AS predicate,
           (string_to_array(i.indkey::text, ' ')::int[])[1:i.indnkeyatts] AS cols
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indrelid::regclass::text = ANY(%s) AND i.indexprs IS NULL
)
SELECT a.indrelid::regclass::text, a.indexrelid::regclass::text, b.indexrelid::regclass::text
FROM idx a
JOIN idx b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid AND a.am = b.am
          AND a.predicate IS NOT DISTINCT FROM b.predicate
WHERE a.cols = b.cols[1:cardinality(a.cols)]
  AND (NOT a.indisunique OR (b.indisunique AND a.cols = b.cols AND a.indexrelid > b.indexrelid))
ORDER BY 1, 2, 3
"""


@pytest.mark.django_db
def test_every_foreign_key_is_indexed_after_the_upgrade():
    with connection.cursor() as cursor:
        cursor.execute(UNINDEXED_FOREIGN_KEYS, [DOMAIN_TABLES])
        unindexed = cursor.fetchall()

    assert unindexed == []


@pytest.mark.django_db
def test_no_table_has_a_redundant_index_after_the_upgrade():
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT_INDEXES, [DOMAIN_TABLES])
        redundant = cursor.fetchall()

    assert redundant == []


@pytest.mark.django_db
def test_the_catalog_checks_see_the_new_tables_and_their_foreign_keys():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid::regclass::text = ANY(%s)",
            [NEW_TABLES],
        )
        (foreign_keys,) = cursor.fetchone()

    declared = [field for model in NEW_MODELS for field in model._meta.concrete_fields]
    assert len(NEW_TABLES) == 35
    assert not set(NEW_TABLES) & LEGACY_TABLES
    # A reference the platform declares no key for has none in the database either (D15).
    assert foreign_keys == sum(field.is_relation and field.db_constraint for field in declared)
    assert foreign_keys > 0


# What each on_delete must be in the database, because the running platform deletes in SQL
# and Django's collector is not there to do it. PROTECT and RESTRICT stay NO ACTION: see
# database/migrations/0002 for why RESTRICT would defeat a cascade that passes through.
DATABASE_RULE = {
    "CASCADE": "c",
    "SET_NULL": "n",
    "PROTECT": "a",
    "RESTRICT": "a",
    "DO_NOTHING": "a",
}


@pytest.mark.django_db
def test_every_foreign_key_deletes_in_the_database_as_its_model_says():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname, c.confdeltype "
            "FROM pg_constraint c JOIN pg_attribute a "
            "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)",
            [DOMAIN_TABLES],
        )
        in_database = {(table, column): rule for table, column, rule in cursor.fetchall()}
    declared = {
        (model._meta.db_table, field.column): DATABASE_RULE[field.remote_field.on_delete.__name__]
        for model in domain_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.db_constraint
    }

    assert in_database == declared
