"""Control-plane routes (Django). The data plane (/api/data/*, /api/crypto-hub/proxy) is routed
before Django in asgi.py and never reaches these patterns."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api-auth/", include("rest_framework.urls")),
    # Before providers: /api/providers/<slug>/health lives with the monitoring views.
    path("", include("healing.api.urls")),
    path("", include("providers.api.urls")),
    path("", include("pools.api.urls")),
    path("", include("dashboard.urls")),
]
