"""Catalogue endpoints: thin views that parse input, call providers.services, shape output."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from common.restapi import READ_ERRORS, WRITE_ERRORS, call_service, error_responses, parse_bool
from providers import services
from providers.models import Category, Provider

from .serializers import ProviderSerializer


def get_provider_or_404(slug: str) -> Provider:
    provider = Provider.objects.prefetch_related("pools").filter(slug=slug).first()
    if provider is None:
        raise NotFound(f"no provider with slug {slug!r}")
    return provider


def filter_providers(queryset: QuerySet[Provider], params) -> QuerySet[Provider]:
    """Apply ?category=, ?enabled= and ?search= (slug, name, base URL, notes)."""
    category = params.get("category")
    if category:
        if category not in Category.values:
            raise ValidationError({"category": [f"unknown category {category!r}; choose from {Category.values}"]})
        queryset = queryset.filter(category=category)
    enabled = params.get("enabled")
    if enabled not in (None, ""):
        queryset = queryset.filter(enabled=parse_bool("enabled", enabled))
    search = (params.get("search") or "").strip()
    if search:
        queryset = queryset.filter(
            Q(slug__icontains=search) | Q(name__icontains=search)
            | Q(base_url__icontains=search) | Q(notes__icontains=search)
        )
    return queryset


# A slug as the URL pattern takes it: anything else is not a route at all.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
SLUG_PARAMETER = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=SLUG_PATTERN)

LIST_PARAMETERS = [
    OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values, description="Only this category."),
    OpenApiParameter("enabled", OpenApiTypes.BOOL, description="Only enabled (true) or disabled (false)."),
    OpenApiParameter("search", OpenApiTypes.STR, description="Substring of slug, name, base URL or notes."),
]


@extend_schema(tags=["providers"])
class ProviderListView(generics.GenericAPIView):
    """The catalogue: list (filterable) and create."""

    serializer_class = ProviderSerializer
    queryset = Provider.objects.prefetch_related("pools")

    @extend_schema(summary="List providers", parameters=LIST_PARAMETERS,
                   responses={200: ProviderSerializer(many=True), **error_responses(400, *READ_ERRORS)})
    def get(self, request: Request) -> Response:
        providers = filter_providers(self.get_queryset(), request.query_params)
        return Response(self.get_serializer(providers, many=True).data)

    @extend_schema(
        summary="Create a provider (staff)",
        responses={201: ProviderSerializer, **error_responses(409, *WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        provider = call_service(services.provider_create, data=serializer.validated_data)
        return Response(self.get_serializer(get_provider_or_404(provider.slug)).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["providers"])
class ProviderDetailView(generics.GenericAPIView):
    """One provider: read, partial update, delete."""

    serializer_class = ProviderSerializer
    queryset = Provider.objects.all()
    lookup_field = "slug"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(summary="Get a provider", parameters=[SLUG_PARAMETER],
                   responses={200: ProviderSerializer, **error_responses(404, *READ_ERRORS)})
    def get(self, request: Request, slug: str) -> Response:
        return Response(self.get_serializer(get_provider_or_404(slug)).data)

    @extend_schema(
        summary="Update a provider (staff)", parameters=[SLUG_PARAMETER],
        responses={200: ProviderSerializer, **error_responses(404, *WRITE_ERRORS)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        provider = get_provider_or_404(slug)
        serializer = self.get_serializer(provider, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        call_service(services.provider_update, provider=provider, data=serializer.validated_data)
        return Response(self.get_serializer(get_provider_or_404(slug)).data)

    @extend_schema(summary="Delete a provider (staff)", parameters=[SLUG_PARAMETER],
                   responses={204: None, **error_responses(404, *WRITE_ERRORS)})
    def delete(self, request: Request, slug: str) -> Response:
        call_service(services.provider_delete, provider=get_provider_or_404(slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["providers"])
class ProviderCategoryView(generics.GenericAPIView):
    """All providers of one category (404 for a category that does not exist)."""

    serializer_class = ProviderSerializer
    queryset = Provider.objects.prefetch_related("pools")

    @extend_schema(
        summary="List providers of a category",
        parameters=[
            OpenApiParameter("category", OpenApiTypes.STR, OpenApiParameter.PATH, enum=Category.values),
            *LIST_PARAMETERS[1:],
        ],
        responses={200: ProviderSerializer(many=True), **error_responses(400, 404, *READ_ERRORS)},
    )
    def get(self, request: Request, category: str) -> Response:
        if category not in Category.values:
            raise NotFound(f"unknown category {category!r}; choose from {Category.values}")
        queryset = filter_providers(self.get_queryset().filter(category=category), request.query_params)
        return Response(self.get_serializer(queryset, many=True).data)
