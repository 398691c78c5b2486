"""factory_boy factories shared by every test package."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from dispatch.geo import h3_cells
from dispatch.models import Call, CallType, Disposition, Location, Unit
from governance.models import Agency, Membership
from governance.services import user_set_roles

TEST_PASSWORD = "correct-horse-battery-staple"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user with roles (``roles=["dispatcher"]``) and a membership of ``agency``."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        self.save()
        if extracted:
            user_set_roles(user=self, roles=list(extracted))

    @factory.post_generation
    def agency(self, create: bool, extracted: Agency | None, **kwargs: object) -> None:
        if extracted is not False:
            Membership.objects.create(user=self, agency=extracted or AgencyFactory(code="default"))


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    address_key = factory.Sequence(lambda n: f"{100 + n} MAIN ST")
    display_address = factory.LazyAttribute(lambda o: o.address_key)
    street_line = factory.LazyAttribute(lambda o: o.address_key)
    latitude = 29.4241
    longitude = -98.4936
    h3_r7 = factory.LazyAttribute(lambda o: h3_cells(o.latitude, o.longitude)["h3_r7"])
    h3_r9 = factory.LazyAttribute(lambda o: h3_cells(o.latitude, o.longitude)["h3_r9"])
    h3_r11 = factory.LazyAttribute(lambda o: h3_cells(o.latitude, o.longitude)["h3_r11"])


class CallFactory(factory.django.DjangoModelFactory):
    """A pending call inserted directly (bypassing services) for read-side tests."""

    class Meta:
        model = Call

    agency = factory.LazyFunction(lambda: AgencyFactory(code="default"))
    number = factory.Sequence(lambda n: f"2026-{n + 1:06d}")
    call_type = factory.LazyFunction(lambda: CallType.objects.get(code="DISTURB"))
    priority = 3
    location = factory.SubFactory(LocationFactory)
    latitude = factory.LazyAttribute(lambda o: o.location.latitude if o.location else None)
    longitude = factory.LazyAttribute(lambda o: o.location.longitude if o.location else None)
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=5))


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    agency = factory.LazyFunction(lambda: AgencyFactory(code="default"))
    call_sign = factory.Sequence(lambda n: f"U{n + 1}")
    latitude = 29.43
    longitude = -98.49


def disposition(code: str = "REPORT") -> Disposition:
    return Disposition.objects.get(code=code)
