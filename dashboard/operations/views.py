"""Monitor, provider pages, Pools and Alerts. Thin: read the query, call one function of
dashboard.operations.monitor / .pools / .alerts, render. Sync views: the logic reads the ORM and runs
its Redis reads in a loop of its own (the way /api/crypto-hub/health-status does).

Staff controls (rotate, send test) are POST forms with the CSRF token; after a success the page
redirects to itself (post/redirect/get), so a reload never repeats the action.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from dashboard.operations import alerts, monitor, pools


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_staff:
        return HttpResponseForbidden("staff only: log in at /admin/login/ with a staff account")
    return None


@require_http_methods(["GET", "HEAD"])
def monitor_view(request: HttpRequest) -> HttpResponse:
    status = 200
    try:
        context = monitor.monitor_page(request.GET)
    except monitor.BadFilter as exc:
        # The page still renders (filters included) so the operator can pick a valid value.
        context = {**monitor.monitor_page({}), "rows": [], "filter_error": {"field": exc.field, "message": str(exc)}}
        status = 400
    return render(request, "operations/monitor.html", {"tab": "monitor", **context}, status=status)


@require_http_methods(["GET", "HEAD"])
def provider_view(request: HttpRequest, slug: str) -> HttpResponse:
    context = monitor.provider_page(slug)
    if context is None:
        raise Http404(f"no provider with slug {slug!r}")
    return render(request, "operations/provider.html", {"tab": "monitor", **context})


@require_http_methods(["GET", "HEAD"])
def pools_view(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    context = pools.pools_page(slug)
    if context is None:
        raise Http404(f"no pool with slug {slug!r}")
    notice = {"rotated": request.GET.get("rotated", ""), "error": ""}
    return render(request, "operations/pools.html", {"tab": "pools", "notice": notice, **context})


@require_http_methods(["POST"])
def rotate_view(request: HttpRequest, slug: str) -> HttpResponse:
    if denied := _staff_only(request):
        return denied
    event, error, status = pools.rotate(slug, reason=request.POST.get("reason", "").strip(),
                                        actor=request.user.get_username())
    if event is None:
        context = pools.pools_page(slug)
        if context is None:
            raise Http404(error)
        notice = {"rotated": "", "error": error}
        return render(request, "operations/pools.html", {"tab": "pools", "notice": notice, **context}, status=status)
    back = request.POST.get("back") == "list"
    return HttpResponseRedirect(("/pools?" if back else f"/pools/{slug}?") + urlencode({"rotated": slug}))


@require_http_methods(["GET", "HEAD"])
def alerts_view(request: HttpRequest) -> HttpResponse:
    notice = {"tested": request.GET.get("tested", ""), "error": ""}
    return render(request, "operations/alerts.html", {"tab": "alerts", "notice": notice, **alerts.alerts_page()})


@require_http_methods(["POST"])
def send_test_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    if denied := _staff_only(request):
        return denied
    delivery, error, status = alerts.send_test(channel_id)
    if delivery is None:
        if status == 404:
            raise Http404(error)
        notice = {"tested": "", "error": error}
        return render(request, "operations/alerts.html", {"tab": "alerts", "notice": notice, **alerts.alerts_page()},
                      status=status)
    return HttpResponseRedirect("/alerts?" + urlencode({"tested": delivery["channel"]}) + "#channels")
