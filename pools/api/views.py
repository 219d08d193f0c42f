"""Pool endpoints: thin views over pools.services and pools.rotation."""

from __future__ import annotations

import logging

import redis
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from common.restapi import READ_ERRORS, WRITE_ERRORS, Conflict, call_service, error_responses
from pools import services
from pools.models import Pool, PoolMembership, RotationEvent
from pools.rotation import NotEnoughMembers, RotationError, RotationStateUnavailable, current_order, pool_rotate
from providers.api.views import SLUG_PARAMETER, SLUG_PATTERN, get_provider_or_404
from providers.runtime import sync_redis

from .serializers import (
    MembershipInputSerializer,
    MembershipSerializer,
    MembershipUpdateSerializer,
    PoolDetailSerializer,
    PoolSerializer,
    RotateInputSerializer,
    RotationEventSerializer,
)

logger = logging.getLogger(__name__)

MEMBER_PARAMETERS = [SLUG_PARAMETER, OpenApiParameter("provider", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                     pattern=SLUG_PATTERN)]


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "a backing service is unavailable; try again"
    default_code = "unavailable"


class HistoryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def pools_queryset() -> QuerySet[Pool]:
    return Pool.objects.prefetch_related("memberships__provider")


def get_pool_or_404(slug: str) -> Pool:
    pool = pools_queryset().filter(slug=slug).first()
    if pool is None:
        raise NotFound(f"no pool with slug {slug!r}")
    return pool


def pool_detail_data(pool: Pool, request: Request) -> dict:
    try:
        order = current_order(pool, r=sync_redis())
    except redis.RedisError as exc:
        # The pool itself is still worth showing; only its live order is unknown.
        logger.warning("pool %s: current order unavailable: %s", pool.slug, exc)
        order = None
    return PoolDetailSerializer(pool, context={"request": request, "current_order": order}).data


@extend_schema(tags=["pools"])
class PoolListView(generics.GenericAPIView):
    """All pools, and create a pool (the old system's body shape is accepted)."""

    serializer_class = PoolSerializer
    queryset = Pool.objects.none()

    @extend_schema(summary="List pools", responses={200: PoolSerializer(many=True), **error_responses(*READ_ERRORS)})
    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(pools_queryset(), many=True).data)

    @extend_schema(
        summary="Create a pool (staff)",
        description='A missing slug is derived from the name: "My Market Pool" becomes my_market_pool.',
        responses={201: PoolDetailSerializer, **error_responses(409, *WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pool = call_service(services.pool_create, data=serializer.validated_data)
        return Response(pool_detail_data(get_pool_or_404(pool.slug), request), status=status.HTTP_201_CREATED)


@extend_schema(tags=["pools"])
class PoolDetailView(generics.GenericAPIView):
    """One pool with its members and current order; partial update; delete."""

    serializer_class = PoolDetailSerializer
    queryset = Pool.objects.none()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    @extend_schema(summary="Get a pool", parameters=[SLUG_PARAMETER],
                   responses={200: PoolDetailSerializer, **error_responses(404, *READ_ERRORS)})
    def get(self, request: Request, slug: str) -> Response:
        return Response(pool_detail_data(get_pool_or_404(slug), request))

    @extend_schema(
        summary="Update a pool (staff)", parameters=[SLUG_PARAMETER],
        request=PoolSerializer,
        responses={200: PoolDetailSerializer, **error_responses(404, *WRITE_ERRORS)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        pool = get_pool_or_404(slug)
        serializer = PoolSerializer(pool, data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        call_service(services.pool_update, pool=pool, data=serializer.validated_data)
        return Response(pool_detail_data(get_pool_or_404(slug), request))

    @extend_schema(summary="Delete a pool (staff)", parameters=[SLUG_PARAMETER],
                   responses={204: None, **error_responses(404, *WRITE_ERRORS)})
    def delete(self, request: Request, slug: str) -> Response:
        call_service(services.pool_delete, pool=get_pool_or_404(slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["pools"])
class PoolMembersView(generics.GenericAPIView):
    """Add a provider to a pool (`provider_id` is accepted beside `provider`)."""

    serializer_class = MembershipInputSerializer
    queryset = PoolMembership.objects.none()

    @extend_schema(
        summary="Add a member to a pool (staff)", parameters=[SLUG_PARAMETER],
        responses={201: MembershipSerializer, **error_responses(404, 409, *WRITE_ERRORS)},
    )
    def post(self, request: Request, slug: str) -> Response:
        pool = get_pool_or_404(slug)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        provider = get_provider_or_404(fields.pop("provider"))
        membership = call_service(services.pool_member_add, pool=pool, provider=provider, **fields)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["pools"])
class PoolMemberDetailView(generics.GenericAPIView):
    """One membership: change priority/weight/enabled, or remove the provider from the pool."""

    serializer_class = MembershipUpdateSerializer
    queryset = PoolMembership.objects.none()
    http_method_names = ["patch", "delete", "options"]

    def get_membership(self, slug: str, provider: str) -> PoolMembership:
        pool = get_pool_or_404(slug)
        membership = PoolMembership.objects.select_related("pool", "provider").filter(
            pool=pool, provider__slug=provider
        ).first()
        if membership is None:
            raise NotFound(f"provider {provider!r} is not a member of pool {slug!r}")
        return membership

    @extend_schema(
        summary="Update a pool member (staff)", parameters=MEMBER_PARAMETERS,
        responses={200: MembershipSerializer, **error_responses(404, *WRITE_ERRORS)},
    )
    def patch(self, request: Request, slug: str, provider: str) -> Response:
        membership = self.get_membership(slug, provider)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = call_service(services.pool_member_update, membership=membership, data=serializer.validated_data)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(summary="Remove a member from a pool (staff)", parameters=MEMBER_PARAMETERS,
                   responses={204: None, **error_responses(404, *WRITE_ERRORS)})
    def delete(self, request: Request, slug: str, provider: str) -> Response:
        membership = self.get_membership(slug, provider)
        call_service(services.pool_member_remove, pool=membership.pool, provider=membership.provider)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["pools"])
class PoolRotateView(generics.GenericAPIView):
    """Make the pool's next member its primary now; answers the RotationEvent recorded (201), or
    200 with head_changed false when the pool has one eligible member."""

    serializer_class = RotateInputSerializer
    queryset = RotationEvent.objects.none()

    @extend_schema(
        summary="Rotate a pool now (staff)", parameters=[SLUG_PARAMETER],
        responses={201: RotationEventSerializer, 200: RotationEventSerializer,
                   **error_responses(404, 409, 503, *WRITE_ERRORS)},
    )
    def post(self, request: Request, slug: str) -> Response:
        pool = get_pool_or_404(slug)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = pool_rotate(pool=pool, reason=serializer.validated_data["reason"], actor=request.user.username)
        except NotEnoughMembers as exc:
            raise Conflict(str(exc)) from exc
        except RotationStateUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from exc
        except RotationError as exc:
            # Anything else is about the input (the reason); the message starts with the field.
            raise ValidationError({"reason": [str(exc).removeprefix("reason: ")]}) from exc
        answer = RotationEventSerializer(event).data
        # 200 when the head stayed (a pool of one: the request is recorded, nothing moved).
        return Response(answer, status=status.HTTP_201_CREATED if answer["head_changed"] else status.HTTP_200_OK)


@extend_schema(tags=["pools"])
class RotationHistoryView(generics.ListAPIView):
    """Rotation events, newest first, paginated; ?pool=<slug> narrows to one pool."""

    serializer_class = RotationEventSerializer
    pagination_class = HistoryPagination

    def get_queryset(self):
        events = RotationEvent.objects.select_related("pool", "from_provider", "to_provider")
        slug = self.request.query_params.get("pool")
        if slug:
            if not Pool.objects.filter(slug=slug).exists():
                raise NotFound(f"no pool with slug {slug!r}")
            events = events.filter(pool__slug=slug)
        return events

    @extend_schema(
        summary="Rotation history",
        parameters=[OpenApiParameter("pool", OpenApiTypes.STR, description="Only this pool's rotations.")],
        responses={200: RotationEventSerializer(many=True), **error_responses(404, *READ_ERRORS)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
