def test_healthz_reports_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["revision"]


def test_hq_sees_overview(login_as):
    c = login_as("hq")
    r = c.get("/")
    assert r.status_code == 200
    assert "5" in r.get_data(as_text=True)
