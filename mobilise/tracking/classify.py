"""Tell a person's open or click from a machine's, from what a request and its timing show.

Rules, in order (documented in the README with their limits):
- Gmail's and Yahoo's image proxies fetch when the reader opens the email: human.
- No User-Agent, or a known scanner's or tool's agent: machine ("scanner-agent").
- Apple Mail Privacy Protection prefetches every image when mail arrives, read or not, from Apple's
  network (17.0.0.0/8) with a bare "Mozilla/5.0": machine ("apple-mpp").
- A network staff list in TRACKING_MACHINE_NETWORKS: machine ("machine-network").
- Clicks, judged when written: a click within CLICK_TOO_SOON seconds of the email being accepted, or
  two different links of one email clicked within CLICK_BURST seconds, is a link scanner ("click-burst").
"""

import ipaddress
import re
from datetime import datetime, timedelta

HUMAN_PROXIES = re.compile(r"GoogleImageProxy|YahooMailProxy", re.I)
MACHINE_AGENTS = re.compile(
    r"bot\b|crawler|spider|preview|scanner|proofpoint|mimecast|barracuda|safelinks|symantec|trendmicro|"
    r"python-requests|python-urllib|curl/|wget/|go-http-client|okhttp|java/|libwww|headless|httpclient",
    re.I,
)
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
CLICK_TOO_SOON = timedelta(seconds=10)
CLICK_BURST = timedelta(seconds=3)


def classify_request(user_agent: str | None, network: str | None, machine_networks=()) -> tuple[bool, str]:
    """(machine, reason) for one open or click, from its agent and its network (as network_of gives it)."""
    agent = (user_agent or "").strip()
    if HUMAN_PROXIES.search(agent):
        return False, "mail-proxy"
    if not agent or MACHINE_AGENTS.search(agent):
        return True, "scanner-agent"
    where = ipaddress.ip_network(network) if network else None
    if agent == "Mozilla/5.0" or (where is not None and where.version == 4 and where.subnet_of(APPLE_NETWORK)):
        return True, "apple-mpp"
    if where is not None and any(where.overlaps(ipaddress.ip_network(n, strict=False)) for n in machine_networks):
        return True, "machine-network"
    return False, "browser"


def machine_clicks(clicks: list[tuple[int, int | None, datetime]], sent_at: datetime | None) -> set[int]:
    """The ids, among one email's clicks (id, link id, time), that a link scanner made."""
    flagged = set()
    ordered = sorted(clicks, key=lambda click: click[2])
    for index, (event_id, link_id, at) in enumerate(ordered):
        if sent_at is not None and at - sent_at < CLICK_TOO_SOON:
            flagged.add(event_id)
        for other_id, other_link, other_at in ordered[index + 1 :]:
            if other_at - at > CLICK_BURST:
                break
            if other_link != link_id:
                flagged.update((event_id, other_id))
    return flagged
