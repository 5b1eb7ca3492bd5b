from tests.conftest import sign_in


def test_therapist_lands_on_caseload(client, therapist, client_record):
    response = sign_in(client, therapist).get("/", follow=True)
    assert response.status_code == 200
    assert b"My caseload" in response.content
    assert b"Patel" in response.content
