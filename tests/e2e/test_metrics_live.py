"""/metrics under gunicorn as in production (2 workers): every worker's counts add up in one
scrape (prometheus_client's multiprocess mode, folder set up by gunicorn.conf.py), and every
answer carries its request id."""

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def _get(url: str, headers: dict | None = None):
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {}), timeout=10
    ) as r:
        return r.status, dict(r.headers), r.read().decode()


def _health_requests(base_url: str) -> float:
    _, _, text = _get(f"{base_url}/metrics")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "interview_room_requests_total"
                and sample.labels.get("endpoint") == "health.healthz"
            ):
                return sample.value
    return 0.0


def test_a_scrape_adds_up_every_worker(live_server):
    before = _health_requests(live_server.base_url)
    ids = set()
    for _ in range(30):  # over fresh connections: the workers share them out
        status, headers, _ = _get(f"{live_server.base_url}/healthz")
        assert status == 200
        ids.add(headers["X-Request-ID"])
    assert len(ids) == 30
    assert _health_requests(live_server.base_url) - before == 30
