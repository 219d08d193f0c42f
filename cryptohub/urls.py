"""Control-plane routes (Django). The data plane (/api/data/*, /api/crypto-hub/proxy) is routed
before Django in asgi.py and never reaches these patterns."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script): the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="cryptohub/swagger_ui.html"),
         name="swagger-ui"),
    path("api-auth/", include("rest_framework.urls")),
    # Before providers: /api/providers/<slug>/health lives with the monitoring views.
    path("", include("healing.api.urls")),
    path("", include("providers.api.urls")),
    path("", include("pools.api.urls")),
    path("", include("dashboard.urls")),
]

handler404 = "cryptohub.exceptions.not_found"
