from django.urls import path

from dashboard.live.views import SessionsView

urlpatterns = [path("api/sessions", SessionsView.as_view(), name="live-sessions")]
