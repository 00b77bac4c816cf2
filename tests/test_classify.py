"""People or machines: the rules of classify.py, one by one."""

from datetime import datetime, timedelta

import pytest

from mobilise.networks import network_of
from mobilise.tracking.classify import classify_request, machine_clicks

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"


@pytest.mark.parametrize(
    "agent, address, expected",
    [
        (IPHONE, "81.2.69.160", (False, "browser")),
        (GMAIL, "66.249.84.10", (False, "mail-proxy")),  # Gmail fetches when the reader opens
        ("Mozilla/5.0", "17.58.101.4", (True, "apple-mpp")),  # Apple Mail Privacy Protection prefetch
        (IPHONE, "17.58.101.4", (True, "apple-mpp")),
        ("", "81.2.69.160", (True, "scanner-agent")),
        ("python-requests/2.32", "81.2.69.160", (True, "scanner-agent")),
        ("Mozilla/5.0 (compatible; Barracuda Sentinel)", "81.2.69.160", (True, "scanner-agent")),
    ],
)
def test_requests(agent, address, expected):
    assert classify_request(agent, network_of(address)) == expected


def test_a_network_staff_named_is_a_machines():
    assert classify_request(IPHONE, network_of("203.0.113.9"), ["203.0.113.0/24"]) == (True, "machine-network")
    assert classify_request(IPHONE, network_of("203.0.114.9"), ["203.0.113.0/24"]) == (False, "browser")


def test_only_the_network_is_kept():
    assert network_of("81.2.69.160") == "81.2.69.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    for garbage in ("not an address", "300.1.1.1", "1.2.3", "", None):
        assert network_of(garbage) is None


def test_a_burst_of_different_links_and_a_click_too_soon_are_a_scanners():
    sent = datetime(2027, 1, 1, 10, 0, 0)
    scanner = [
        (1, 10, sent + timedelta(seconds=40)),
        (2, 11, sent + timedelta(seconds=41)),
        (3, 12, sent + timedelta(seconds=41)),
    ]
    assert machine_clicks(scanner, sent) == {1, 2, 3}
    assert machine_clicks([(4, 10, sent + timedelta(seconds=3))], sent) == {4}
    person = [
        (5, 10, sent + timedelta(minutes=20)),
        (6, 11, sent + timedelta(minutes=21)),
        (7, 10, sent + timedelta(minutes=21, seconds=30)),
    ]
    assert machine_clicks(person, sent) == set()
