"""The frame's pages: Market (/), Sentiment and Tools. Thin: fetch through dashboard.site.blocks /
.market, render. Async, so the data comes from the data plane's runtime in this same process.

A POST form (the sentiment box, the proxy console) works without JavaScript: the page renders
again with the answer. With htmx (HX-Request) only the answer's fragment is rendered, always as a
200: htmx swaps in only 2xx answers, and the fragment itself says what went wrong. The pages
follow CRYPTOHUB_PUBLIC_READ like every other read: while it is off, only a logged-in user sees
them. The two forms answer only what the data plane would answer the same caller: its inbound
check (key or staff session, per-IP limits) runs first, with the same counters.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from dashboard.site import blocks, tools
from dashboard.site.market import market_blocks

SENTIMENT_COINS = "bitcoin,ethereum"


async def _login_unless_may_read(request: HttpRequest) -> HttpResponse | None:
    """Loads request.user (the template reads it; lazily there it would touch the ORM from async
    code); answers the login redirect instead when reads need a login and there is none."""
    request.user = await request.auser()
    if settings.CRYPTOHUB_PUBLIC_READ or request.user.is_authenticated:
        return None
    login = reverse("admin:login")
    if request.htmx:
        # A redirect followed inside htmx would swap the login form into the page: load it instead.
        return HttpResponseClientRedirect(f"{login}?next={request.path}")
    return redirect_to_login(request.get_full_path(), login)


@require_http_methods(["GET", "HEAD"])
async def market(request: HttpRequest) -> HttpResponse:
    if denied := await _login_unless_may_read(request):
        return denied
    context = {"tab": "market", **await market_blocks()}
    return render(request, "dashboard/market.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
async def sentiment(request: HttpRequest) -> HttpResponse:
    if denied := await _login_unless_may_read(request):
        return denied
    context = {"tab": "sentiment", "text": "", "scored": None, "text_error": "", "refused": None}
    status = 200
    if request.method == "POST":
        context["text"] = request.POST.get("text", "")
        context["refused"] = await blocks.inbound_refusal(request.scope, blocks.SENTIMENT_PATH)
        if context["refused"] is not None:
            status = context["refused"].status
        else:
            context["scored"], context["text_error"] = await blocks.score_text(context["text"])
            status = 400 if context["text_error"] else 200
        if request.htmx:
            return render(request, "dashboard/_sentiment_result.html", context)
    context["headlines"] = await blocks.data_block("sentiment", {"ids": SENTIMENT_COINS})
    return render(request, "dashboard/sentiment.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
async def tools_page(request: HttpRequest) -> HttpResponse:
    if denied := await _login_unless_may_read(request):
        return denied
    context = {"tab": "tools", "form": tools.ProxyForm.initial(), "answer": None, "form_error": ""}
    status = 200
    if request.method == "POST":
        form, error = tools.ProxyForm.read(request.POST)
        context["form"], context["form_error"] = form, error
        if not error:
            context["answer"] = await blocks.proxy_answer(form.body(), request.scope)
        status = 400 if error else 200
        if request.htmx:
            return render(request, "dashboard/_proxy_result.html", context)
    context["providers"] = await blocks.registered_providers()
    return render(request, "dashboard/tools.html", context, status=status)


def to_market(request: HttpRequest) -> HttpResponse:
    """/api/crypto-hub/ is where the old API's users land: the dashboard is the page to see."""
    return HttpResponseRedirect("/")
