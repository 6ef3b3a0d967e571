"""API fixtures: a world of two datasets in client alpha, and a token-carrying client per role."""

from dataclasses import dataclass

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client as HttpClient

from campaigns.models import Message
from clients.api_tokens import api_token_create
from clients.models import Notification, User
from leads.models import Lead, Suppression
from tests.campaigns.helpers import campaign_dataset

ALPHA = "alpha.localhost"
BETA = "beta.localhost"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle counts live in Redis (shared by processes): each test starts from none."""
    connection = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in connection.scan_iter("*dbr:throttle:*"):
        connection.delete(key)
    yield


class Api:
    """A test client that sends `Authorization: Token <key>` to one client's host, and JSON bodies."""

    def __init__(self, key: str | None, host: str = ALPHA):
        self.http = HttpClient()
        self.key, self.host = key, host

    def _headers(self, extra):
        headers = {"HTTP_HOST": self.host, **extra}
        if self.key:
            headers["HTTP_AUTHORIZATION"] = f"Token {self.key}"
        return headers

    def get(self, path, data=None, **extra):
        return self.http.get(path, data, **self._headers(extra))

    def post(self, path, data=None, *, multipart=False, **extra):
        if multipart:
            return self.http.post(path, data or {}, **self._headers(extra))
        return self.http.post(path, data or {}, content_type="application/json", **self._headers(extra))

    def patch(self, path, data=None, **extra):
        return self.http.patch(path, data or {}, content_type="application/json", **self._headers(extra))

    def delete(self, path, **extra):
        return self.http.delete(path, **self._headers(extra))


@dataclass
class World:
    north: object
    south: object
    north_lead: Lead
    south_lead: Lead
    suppression: Suppression
    notification: Notification


@pytest.fixture
def world(alpha, owner) -> World:
    north = campaign_dataset(name="North", leads=3)
    south = campaign_dataset(name="South", leads=2)
    north_lead = north.leads.order_by("first_name").first()
    south_lead = Lead.objects.create(dataset=south, first_name="Sid", phone_number="+447700900777")
    suppression = Suppression.objects.create(phone_number="+447700900999", source="staff")
    notification = Notification.objects.create(user=owner, client=alpha, kind="hot", title="Hot lead: Lead0")
    return World(north, south, north_lead, south_lead, suppression, notification)


def token_for(user: User) -> str:
    return api_token_create(user=user, name="tests").key


@pytest.fixture
def as_owner(owner) -> Api:
    return Api(token_for(owner))


@pytest.fixture
def rep(alpha, world, make_user) -> User:
    """A sales rep who sees every lead of the North dataset only."""
    return make_user(
        alpha,
        "north-rep@alpha.example",
        User.Role.SALES_REP,
        can_view_all_leads=True,
        allowed_dataset_ids=[world.north.pk],
    )


@pytest.fixture
def as_rep(rep) -> Api:
    return Api(token_for(rep))


@pytest.fixture
def reader(alpha, make_user) -> User:
    return make_user(alpha, "reader@alpha.example", User.Role.READ_ONLY)


@pytest.fixture
def as_reader(reader) -> Api:
    return Api(token_for(reader))


@pytest.fixture
def as_suspended(alpha, make_user) -> Api:
    user = make_user(alpha, "gone@alpha.example", User.Role.MANAGER)
    key = token_for(user)
    User.objects.filter(pk=user.pk).update(status=User.Status.SUSPENDED)
    return Api(key)


@pytest.fixture
def as_outsider(outsider) -> Api:
    """A valid token of client beta, used on alpha's host."""
    return Api(token_for(outsider))


def messages_to(lead: Lead) -> int:
    return Message.objects.filter(lead=lead, direction=Message.Direction.OUTBOUND).count()
