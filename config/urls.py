from django.contrib import admin
from django.urls import path

from database.admin import views

urlpatterns = [
    # Read-only inspection pages (staff with the page's view permission), ahead of the
    # admin's own catch-all app URLs.
    path(
        "admin/inspect/integrity/",
        admin.site.admin_view(views.integrity_view),
        name="admin-integrity",
    ),
    path(
        "admin/inspect/archive/",
        admin.site.admin_view(views.archive_index_view),
        name="admin-archive",
    ),
    path(
        "admin/inspect/archive/<str:table>/",
        admin.site.admin_view(views.archive_table_view),
        name="admin-archive-table",
    ),
    path("admin/", admin.site.urls),
]
