"""Form bodies Django cannot read are refused with a reason, whatever server
passes them on, instead of reaching a view as an empty form."""

from __future__ import annotations

import pytest

MALFORMED = b"--b\r\nContent-Disposition: form-data\r\n\r\nno end"
FORM = (
    b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n'
    b"a red ball\r\n--b--\r\n"
)

pytestmark = pytest.mark.django_db


def test_a_multipart_page_post_without_a_length_is_refused(alice_client):
    # As a server that passes a chunked upload on as it came would hand it over.
    response = alice_client.generic(
        "POST",
        "/accounts/login/",
        FORM,
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert b"Content-Length" in response.content


def test_a_multipart_api_post_without_a_length_is_refused_in_json(alice_client):
    response = alice_client.generic(
        "POST",
        "/api/generations",
        FORM,
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]


def test_a_malformed_multipart_form_is_refused_with_the_reason(alice_client):
    response = alice_client.generic(
        "POST",
        "/accounts/login/",
        MALFORMED,
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert b"could not be read" in response.content


def test_a_malformed_multipart_api_body_is_a_400_in_json(alice_client):
    response = alice_client.generic(
        "POST",
        "/api/generations",
        MALFORMED,
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    # The documented shape of the route's 400s, with the reason.
    [reason] = response.json()["errors"]["__all__"]
    assert reason.startswith("The form could not be read")
