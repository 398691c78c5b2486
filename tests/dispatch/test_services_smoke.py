import pytest

from dispatch import services
from dispatch.models import CallType
from tests.factories import UnitFactory, disposition

pytestmark = pytest.mark.django_db


def test_call_lifecycle_end_to_end(cast, agency):
    d = cast["dispatcher"]
    call = services.call_create(
        agency=agency,
        actor=d,
        call_type=CallType.objects.get(code="THEFT"),
        address="123 North Main Street Apt 4",
        latitude=29.42,
        longitude=-98.49,
    )
    assert call.number.endswith("000001")
    assert call.location.address_key == "123 N MAIN ST #4"
    unit = UnitFactory(agency=agency)
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=d)
    services.unit_set_status(unit_id=unit.pk, actor=d, status="en_route")
    services.unit_set_status(unit_id=unit.pk, actor=d, status="on_scene")
    services.unit_set_status(unit_id=unit.pk, actor=d, status="available")
    call.refresh_from_db()
    assert call.status == "cleared"
    services.call_close(call_id=call.pk, actor=d, disposition=disposition())
    call.refresh_from_db()
    assert call.status == "closed" and call.closed_at and call.on_scene_at and call.en_route_at
    assert call.events.first().kind == "created"
