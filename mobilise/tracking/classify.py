"""Tell a person's open or click from a machine's fetch, from what the request itself shows.

Rules (documented in the README with their limits):
- Apple Mail Privacy Protection prefetches every image through Apple's proxy when mail
  arrives, whether or not anyone reads it; its fetches carry no browser product token.
- Security scanners and link checkers announce themselves in the User-Agent, or send none.
- Gmail's image proxy (GoogleImageProxy) fetches when the reader opens the email: human.
"""
import re

HUMAN_PROXIES = re.compile(r"GoogleImageProxy|YahooMailProxy", re.I)
MACHINE_AGENTS = re.compile(
    r"bot\b|crawler|spider|preview|scanner|proofpoint|mimecast|barracuda|safelinks|"
    r"python-requests|curl/|wget/|go-http-client|okhttp|java/|libwww|headless",
    re.I,
)


def is_machine(user_agent: str | None) -> bool:
    agent = (user_agent or "").strip()
    if not agent:
        return True
    if HUMAN_PROXIES.search(agent):
        return False
    if MACHINE_AGENTS.search(agent):
        return True
    # Apple's MPP proxy sends a bare "Mozilla/5.0" with no platform or engine.
    return agent == "Mozilla/5.0"
