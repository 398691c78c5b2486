"""Hostile XML for the CAP parser (``dispatch/alerts/parser.py``) and the alert upload API: external
entities, entity expansion (billion laughs), parameter entities, in every encoding lxml reads, and
oversize documents. Each is refused naming the ``xml`` field, without expanding, opening a file
or the network, and without writing an alert.

No shared samples needed. The shared hostile sample (``xxe-attack_DO-NOT-RESOLVE-ENTITIES.xml``)
and the byte cap on the parser are tested in ``tests/dispatch/test_alerts_parser.py``; API
refusals of the shared negative samples in ``tests/api/test_alerts.py``.
"""

from __future__ import annotations

import socket

import pytest

from dispatch.alerts import parser
from dispatch.alerts.parser import CapError, parse_alert
from dispatch.models import PartnerAlert

CAP = 'xmlns="urn:oasis:names:tc:emergency:cap:1.2"'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10)
    )
    + f"]><alert {CAP}><identifier>&lol9;</identifier></alert>"
)
XXE = f'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert {CAP}><note>&x;</note></alert>'
PARAMETER_XXE = (
    '<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>'
    f"<alert {CAP}><note>x</note></alert>"
)
# How a partner's document may be encoded: lxml detects each from the first bytes.
ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-16 with BOM": lambda text: text.encode("utf-16"),
    "utf-16le without BOM": lambda text: _declared(text, "UTF-16LE").encode("utf-16-le"),
    "utf-16be without BOM": lambda text: _declared(text, "UTF-16BE").encode("utf-16-be"),
    "utf-32 with BOM": lambda text: _declared(text, "UTF-32").encode("utf-32"),
}


def _declared(text: str, encoding: str) -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?>' + text


@pytest.fixture
def no_network(monkeypatch) -> list[object]:
    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise AssertionError(f"network use: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return opened


def _refused(data: bytes) -> CapError:
    with pytest.raises(CapError) as caught:
        parse_alert(data)
    assert caught.value.field == "xml"
    return caught.value


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_billion_laughs_is_refused_before_expansion(encoding: str) -> None:
    error = _refused(ENCODINGS[encoding](LAUGHS))
    # Refused by the probe, before lxml reads the DTD (no expansion, not even a bounded one).
    assert "refused without reading them" in str(error)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_an_external_entity_is_refused_without_reading_the_file(encoding, no_network) -> None:
    error = _refused(ENCODINGS[encoding](XXE))
    assert "refused without reading them" in str(error)
    assert "root:" not in str(error)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_parameter_entity_is_refused_without_network(encoding, no_network) -> None:
    _refused(ENCODINGS[encoding](PARAMETER_XXE))
    assert no_network == []


def test_deep_nesting_is_refused_not_a_crash() -> None:
    depth = 100_000
    error = _refused((f"<alert {CAP}>" + "<a>" * depth + "</a>" * depth + "</alert>").encode())
    assert "not well-formed" in str(error)


def test_an_oversize_document_is_refused_before_parsing() -> None:
    error = _refused(b"<alert>" + b"x" * parser.MAX_BYTES + b"</alert>")
    assert "byte cap" in str(error)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("billion laughs", LAUGHS.encode("utf-16-le"), "DOCTYPE"),
        ("external entity", XXE.encode("utf-16"), "DOCTYPE"),
        ("oversize", b"<alert>" + b"x" * (parser.MAX_BYTES + 10) + b"</alert>", "byte cap"),
    ],
)
def test_the_upload_api_answers_400_naming_xml_and_writes_nothing(
    client_for, no_network, name: str, data: bytes, words: str
) -> None:
    response = client_for("supervisor").generic(
        "POST", "/api/v1/alerts/", data, content_type="application/xml"
    )
    assert response.status_code == 400, (name, response.status_code)
    assert words in response.json()["xml"][0]
    assert not PartnerAlert.objects.exists()
