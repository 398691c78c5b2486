"""The dashboard's read models and JSON: filters (bad input names the field), the Gi* hex layer,
repeat-location rows with sparklines, hour-of-week heatmap, concentration curve, findings order,
access (roles, agencies) and the page with its nav link."""

from __future__ import annotations

import datetime as dt

import h3
import pytest
from django.test import Client
from django.utils import timezone

from beacon_core.errors import DomainError
from governance.choices import Category
from governance.models import AgencyShare
from intelligence import dashboard
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from tests.factories import UserFactory
from tests.intelligence.test_dashboard_support import analyse, plant

pytestmark = pytest.mark.django_db
DATA = "/patterns/data.json"


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def planted(agency):  # type: ignore[no-untyped-def]
    bar = plant(agency)
    analyse(FindingKind.REPEAT_LOCATION, agency)
    analyse(FindingKind.HOTSPOT, agency)
    return bar


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window": "30"}, "window"),
        ({"window": "x"}, "window"),
        ({"category": "no-such"}, "category"),
        ({"agency": "abc"}, "agency"),
        ({"agency": "999999"}, "agency"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "30,-98,29,-97"}, "bbox"),
        ({"bbox": "nan,1,2,3"}, "bbox"),
        ({"status": "open-ish"}, "status"),
        ({"kind": "burglary"}, "kind"),
    ],
)
def test_bad_filters_are_400_naming_the_field(cast, params, field) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(cast["supervisor"]).get(DATA, params)
    assert response.status_code == 400 and field in response.json(), response.json()


def test_another_agency_is_no_such_agency(cast, other_agency) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        dashboard.parse_filters({"agency": str(other_agency.pk)}, user=cast["supervisor"])
    assert caught.value.errors == {"agency": ["No such agency."]}


def test_defaults(cast) -> None:  # type: ignore[no-untyped-def]
    filters = dashboard.parse_filters({}, user=cast["analyst"])
    assert (filters.window_days, filters.status, filters.bbox) == (28, "open", None)


# --- pictures ---------------------------------------------------------------------------------


def test_data_has_every_picture_of_the_filtered_calls(cast, planted) -> None:  # type: ignore[no-untyped-def]
    data = signed_in(cast["supervisor"]).get(DATA).json()
    assert data["calls"] == 36 + 12
    hexes = data["hexes"]["features"]
    hot = [f for f in hexes if f["properties"]["hot"]]
    assert hot and max(f["properties"]["z"] for f in hexes) > 2.58
    bar_cell = h3.latlng_to_cell(planted.latitude, planted.longitude, 9)
    bar_hex = next(f for f in hexes if f["properties"]["cell"] == bar_cell)
    assert bar_hex["properties"]["count"] == 12 + 1  # the bar and the grid place sharing its cell
    ring = bar_hex["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 7  # closed hexagon, GeoJSON [lon, lat]
    assert -99 < ring[0][0] < -98 and 29 < ring[0][1] < 30
    (row,) = data["repeats"]
    finding = Finding.objects.get(kind=FindingKind.REPEAT_LOCATION)
    assert row["address"].endswith("400 BLOCK ELM ST") and row["id"] == finding.pk
    assert (
        row["count"] == finding.statistics["count"] and row["trend"] == finding.statistics["trend"]
    )
    assert row["trend"] in ("rising", "falling", "flat")
    # The sparkline counts the place's own calls per week (all 12 lie within 12 weeks).
    assert len(row["weekly"]) == 12 and sum(row["weekly"]) == 12
    assert row["url"] == f"/patterns/findings/{row['id']}/"
    heat = data["heatmap"]["counts"]
    assert len(heat) == 7 and all(len(r) == 24 for r in heat) and sum(map(sum, heat)) == 48
    curve = data["concentration"]
    assert curve["locations"] == 37 and curve["calls"] == 48
    assert curve["points"][0] == {"x": 0.0, "y": 0.0} and curve["points"][-1]["y"] == 100.0
    top5 = curve["top"][0]
    assert top5["locations_pct"] == 5 and top5["calls_pct"] > 25  # the bar alone is 12/48
    assert [spot["status"] for spot in data["hotspots"]] == ["proposed"]
    assert data["last_run"]["kind"] == "hotspots"


def test_forecast_layer_is_the_default_methods_top_cells_city_wide(cast, planted) -> None:  # type: ignore[no-untyped-def]
    from intelligence.analysis.forecast import BEACON_DEFAULT_METHOD

    client = signed_in(cast["supervisor"])
    forecast = client.get(DATA).json()["forecast"]
    assert forecast["method"] == BEACON_DEFAULT_METHOD and forecast["budget"] == 0.02
    # 37 occupied cells at most -> a 2 % budget is one cell: the bar's, busiest on most days.
    (cell,) = forecast["features"]
    bar_cell = h3.latlng_to_cell(planted.latitude, planted.longitude, 9)
    assert cell["properties"] == {"cell": bar_cell, "rank": 1, "score": cell["properties"]["score"]}
    assert cell["properties"]["score"] > 1
    # The map-view limit does not move the forecast; a category without calls empties it.
    assert client.get(DATA, {"bbox": "10,10,11,11"}).json()["forecast"]["features"] == [cell]
    assert client.get(DATA, {"category": "property"}).json()["forecast"]["features"] == []


def test_category_window_and_bbox_narrow_the_calls(cast, planted) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast["analyst"])
    assert client.get(DATA, {"category": "disorder"}).json()["calls"] == 12 + 36
    # The factory's default type is DISTURB (disorder) too; property calls are none here.
    assert client.get(DATA, {"category": "property"}).json()["calls"] == 0
    assert client.get(DATA, {"window": "7"}).json()["calls"] < 48
    lat, lon = planted.latitude, planted.longitude
    box = f"{lat - 0.001},{lon - 0.001},{lat + 0.001},{lon + 0.001}"
    data = client.get(DATA, {"bbox": box}).json()
    assert data["calls"] == 13 and len(data["repeats"]) == 1
    far = client.get(DATA, {"bbox": "10,10,11,11"}).json()
    assert far["calls"] == 0 and far["repeats"] == [] and far["hexes"]["features"] == []
    assert far["concentration"]["points"] == []


def test_findings_list_puts_proposed_first_and_filters_status_and_kind(cast, planted) -> None:  # type: ignore[no-untyped-def]
    from intelligence import services

    hot = Finding.objects.get(kind=FindingKind.HOTSPOT)
    services.finding_decide(
        finding_id=hot.pk, reviewer=cast["supervisor"], decision="accept", rationale="Seen it."
    )
    client = signed_in(cast["supervisor"])
    rows = client.get(DATA).json()["findings"]["rows"]
    assert [r["status"] for r in rows] == ["proposed", "accepted"]
    assert client.get(DATA, {"status": "accepted"}).json()["findings"]["total"] == 1
    only = client.get(DATA, {"kind": "hotspots"}).json()
    assert [r["kind"] for r in only["findings"]["rows"]] == ["hotspots"] and only["repeats"] == []
    assert client.get(DATA, {"status": "dismissed"}).json()["hotspots"] == []


def test_proposed_places_come_before_people_then_newest(cast, planted) -> None:  # type: ignore[no-untyped-def]
    repeat = Finding.objects.get(kind=FindingKind.REPEAT_LOCATION)
    # An entity finding changed last would come first by time alone.
    entity = Finding.objects.create(
        agency=repeat.agency,
        kind=FindingKind.ENTITY,
        subject_key="entity:person:1:suspect",
        window_start=repeat.window_start,
        window_end=repeat.window_end,
        explanation="Someone appears as suspect in 3 reports.",
    )
    rows = signed_in(cast["supervisor"]).get(DATA).json()["findings"]["rows"]
    assert [r["kind"] for r in rows] == ["hotspots", "repeat_locations", "entities"]
    assert rows[-1]["id"] == entity.pk


def test_empty_data_draws_empty_pictures(cast) -> None:  # type: ignore[no-untyped-def]
    data = signed_in(cast["supervisor"]).get(DATA).json()
    assert data["calls"] == 0 and data["hexes"]["features"] == [] and data["repeats"] == []
    assert data["findings"] == {"rows": [], "total": 0} and data["last_run"] is None


def test_weekly_counts_bins_oldest_first() -> None:
    end = timezone.now()
    times = [end - dt.timedelta(days=d) for d in (0.5, 1, 8, 20, 100)]
    assert dashboard.weekly_counts(times, end=end, weeks=3) == [1, 1, 2]


# --- access -----------------------------------------------------------------------------------


def test_other_agencies_calls_and_findings_stay_out(cast, agency, other_agency, planted) -> None:  # type: ignore[no-untyped-def]
    plant(other_agency, base=(29.50, -98.45))
    analyse(FindingKind.REPEAT_LOCATION, other_agency)
    data = signed_in(cast["supervisor"]).get(DATA).json()
    assert data["calls"] == 48
    assert {r["agency"] for r in data["findings"]["rows"]} == {agency.name}
    assert len(data["repeats"]) == 1


def test_a_shared_agency_can_be_chosen(cast, agency, other_agency) -> None:  # type: ignore[no-untyped-def]
    AgencyShare.objects.create(owner=other_agency, viewer=agency, category=Category.FINDING)
    filters = dashboard.parse_filters({"agency": str(other_agency.pk)}, user=cast["supervisor"])
    assert filters.agency_id == other_agency.pk
    names = [a["name"] for a in dashboard.filter_options(user=cast["supervisor"])["agencies"]]
    assert set(names) == {agency.name, other_agency.name}


@pytest.mark.parametrize("role", ["dispatcher", "field", "admin", "auditor"])
def test_roles_without_findings_get_403(cast, role) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast[role])
    assert client.get("/patterns/").status_code == 403
    assert client.get(DATA).status_code == 403


def test_signed_out_is_sent_to_sign_in() -> None:
    response = Client().get("/patterns/")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("role", ["supervisor", "analyst"])
def test_page_renders_with_config_and_nav_link(cast, role) -> None:  # type: ignore[no-untyped-def]
    html = signed_in(cast[role]).get("/patterns/").content.decode()
    assert 'id="patterns-config"' in html and 'href="/patterns/">Patterns</a>' in html
    assert "vendor/chartjs/chart.umd.js" in html and "<script>" not in html
    assert ('"canRun": true' in html) is (role == "analyst")


def test_nav_link_is_hidden_from_roles_without_findings(cast) -> None:  # type: ignore[no-untyped-def]
    html = signed_in(cast["dispatcher"]).get("/calls/").content.decode()
    assert 'href="/patterns/"' not in html


def test_nav_link_follows_the_policy_not_role_names(cast) -> None:  # type: ignore[no-untyped-def]
    from governance.choices import Action, Category
    from tests.grants import set_grants

    set_grants("dispatcher", Category.FINDING, {Action.VIEW})
    html = signed_in(cast["dispatcher"]).get("/calls/").content.decode()
    assert 'href="/patterns/">Patterns</a>' in html


def test_a_bad_bookmark_still_opens_the_page(cast) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(cast["supervisor"]).get("/patterns/?window=5").status_code == 200


def test_the_data_query_count_does_not_grow_with_findings(cast, agency, planted) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(cast["supervisor"])
    client.get(DATA)  # warm the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(DATA).status_code == 200
        return len(ctx)

    before = queries()
    second = plant(agency, base=(29.60, -98.35), prefix="north")
    analyse(FindingKind.REPEAT_LOCATION, agency)
    analyse(FindingKind.HOTSPOT, agency)
    assert Finding.objects.filter(location=second).exists()
    assert Finding.objects.filter(status=FindingStatus.PROPOSED).count() > 2
    assert queries() == before <= 30  # one query per picture, not per finding


def test_user_with_findings_but_no_calls_sees_findings_only(agency, planted) -> None:  # type: ignore[no-untyped-def]
    from governance.choices import Role
    from tests.grants import set_grants

    set_grants(Role.AUDITOR, Category.FINDING, {"view"})
    user = UserFactory(roles=["auditor"], agency=agency)
    data = signed_in(user).get(DATA).json()
    assert data["calls"] == 0 and data["findings"]["total"] == 2


# --- run now --------------------------------------------------------------------------------

RUN = "/patterns/run/"


@pytest.fixture
def eager():  # type: ignore[no-untyped-def]
    """Embedded mode's in-place task run, even when the suite runs with a Redis broker."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.mark.redis
def test_with_a_broker_run_now_queues_the_run_for_a_worker(cast, agency, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from intelligence import tasks

    sent = []
    real = tasks.run_analysis.apply_async
    monkeypatch.setattr(
        tasks.run_analysis, "apply_async", lambda **kw: sent.append(kw) or real(**kw)
    )
    response = signed_in(cast["analyst"]).post(
        RUN, {"kind": "hotspots"}, content_type="application/json"
    )
    assert response.status_code == 202 and response.json() == {"queued": True, "kind": "hotspots"}
    [call] = sent
    assert call["kwargs"]["kind"] == "hotspots" and call["kwargs"]["agency_id"] == agency.pk


def test_run_now_with_the_broker_unreachable_says_so_with_503(cast, agency, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kombu.exceptions import OperationalError

    from config.celery import app
    from intelligence import tasks
    from intelligence.models import AnalysisRun

    before = app.conf.task_always_eager
    app.conf.task_always_eager = False  # production: a broker in front of the workers

    def refused(**_: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_analysis, "apply_async", refused)
    try:
        response = signed_in(cast["analyst"]).post(
            RUN, {"kind": "hotspots"}, content_type="application/json"
        )
    finally:
        app.conf.task_always_eager = before
    assert response.status_code == 503
    assert "job queue cannot be reached" in response.json()["detail"]
    assert not AnalysisRun.objects.exists()


@pytest.mark.usefixtures("eager")
def test_a_run_that_fails_in_place_is_reported_with_its_failed_run(
    cast, agency, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from intelligence import runners

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("analysis blew up")

    monkeypatch.setitem(runners.RUNNERS, "hotspots", broken)
    response = signed_in(cast["analyst"]).post(
        RUN, {"kind": "hotspots"}, content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["detail"] == "The run failed."
    assert body["run"]["status"] == "failed" and body["run"]["kind"] == "hotspots"


@pytest.mark.usefixtures("eager")
def test_an_analyst_runs_an_analysis_for_their_agency(cast, agency, planted) -> None:  # type: ignore[no-untyped-def]
    from intelligence.models import AnalysisRun

    response = signed_in(cast["analyst"]).post(
        RUN, {"kind": "hotspots"}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    run = AnalysisRun.objects.get(pk=response.json()["run"]["id"])
    assert (run.kind, run.agency_id, run.status) == ("hotspots", agency.pk, "succeeded")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"kind": "burglary"}', "kind"),
        ("{}", "kind"),
        ('{"kind": 3}', "kind"),
        ("[[[", "non_field_errors"),
        ('["hotspots"]', "kind"),
    ],
)
def test_run_now_bad_input_is_400_naming_the_field(cast, body, field) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(cast["analyst"]).post(RUN, body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()


def test_run_now_is_for_roles_that_create_findings(cast) -> None:  # type: ignore[no-untyped-def]
    for role in ("supervisor", "dispatcher", "auditor"):
        response = signed_in(cast[role]).post(
            RUN, {"kind": "hotspots"}, content_type="application/json"
        )
        assert response.status_code == 403, role
    assert signed_in(cast["analyst"]).get(RUN).status_code == 405


@pytest.mark.usefixtures("eager")
def test_a_failing_run_is_reported_not_a_500(cast, agency, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from intelligence import runners

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(runners.RUNNERS, FindingKind.HOTSPOT, broken)
    response = signed_in(cast["analyst"]).post(
        RUN, {"kind": "hotspots"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["run"]["status"] == "failed" and "failed" in response.json()["detail"]


def test_statistics_read_as_text() -> None:
    rows = dict(
        dashboard.statistics_rows(
            {
                "p": 0.0000421,
                "expected": 6.40912,
                "windows": {"7": 7, "28": 19},
                "category": None,
                "days": [4, 5],
                "spike": True,
                "weekly_counts": list(range(200)),
            }
        )
    )
    assert rows["p"] == "4.21e-05" and rows["expected"] == "6.409"
    assert rows["windows"] == "7: 7 · 28: 19" and rows["category"] == "—"
    assert rows["days"] == "4, 5" and rows["spike"] == "yes"
    assert rows["weekly counts"].endswith(" …") and len(rows["weekly counts"]) == 302
