"""Hosts as Linux network namespaces, for the multi-host test: each host a namespace with one veth, all of them
plugged into a bridge in a namespace of its own (the switch), on 10.200.0.0/24.

Nothing is made in the machine's own namespace: each veth pair is created inside its host's namespace with its
peer put straight into the switch's, and no namespace has a route beyond 10.200.0.0/24, so the hosts reach each
other and nothing else (the machine's own PostgreSQL and Redis on 127.0.0.1 are out of their reach too). Needs root
and iproute2. Namespaces are named after the process that made them (`mobmh<pid>-<host>`), so two runs on one
machine do not meet, and a run first deletes those a crashed run left behind (their process gone).
"""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

PREFIX = "mobmh"
SUBNET = "10.200.0"


class NamespacesRefused(Exception):
    """`ip netns add` is not permitted here (not root, no CAP_SYS_ADMIN, no iproute2)."""


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def namespaces() -> list[str]:
    return [line.split()[0] for line in ip("netns", "list").stdout.splitlines() if line.strip()]


def pids_in(namespace: str) -> list[int]:
    return [int(pid) for pid in ip("netns", "pids", namespace, check=False).stdout.split()]


def kill_all_in(namespace: str, timeout: float = 10) -> int:
    """SIGKILL every process in the namespace, again and again until none is left (a worker forks while it
    dies); how many were killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while (pids := pids_in(namespace)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    if pids_in(namespace):
        raise RuntimeError(f"processes left in {namespace} after {timeout} s")
    return len(killed)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers() -> list[str]:
    """Delete the namespaces (and their processes) of earlier runs whose process is gone."""
    cleaned = []
    for namespace in namespaces():
        match = re.fullmatch(rf"{PREFIX}(\d+)-\w+", namespace)
        if match and not alive(int(match[1])):
            kill_all_in(namespace)
            ip("netns", "delete", namespace, check=False)
            cleaned.append(namespace)
    return cleaned


class Hosts:
    """`Hosts({"data": 1, "w1": 11})`: a host per name, at 10.200.0.<n>, all on one switch."""

    def __init__(self, addresses: dict[str, int]):
        self.run_id = f"{PREFIX}{os.getpid()}"
        self.addresses = {name: f"{SUBNET}.{n}" for name, n in addresses.items()}
        self.made: list[str] = []

    def namespace(self, host: str) -> str:
        return f"{self.run_id}-{host}"

    def address(self, host: str) -> str:
        return self.addresses[host]

    def _add(self, namespace: str) -> None:
        try:
            made = ip("netns", "add", namespace, check=False)
        except FileNotFoundError as missing:
            raise NamespacesRefused("iproute2's `ip` is not installed") from missing
        if made.returncode:
            raise NamespacesRefused(f"`ip netns add {namespace}` failed: {made.stderr.strip()}")
        self.made.append(namespace)
        ip("-n", namespace, "link", "set", "dev", "lo", "up")

    def create(self) -> None:
        switch = self.namespace("switch")
        self._add(switch)
        ip("-n", switch, "link", "add", "br0", "type", "bridge")
        ip("-n", switch, "link", "set", "dev", "br0", "up")
        for host, address in self.addresses.items():
            namespace = self.namespace(host)
            self._add(namespace)
            ip("-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", host, "netns", switch)
            ip("-n", switch, "link", "set", "dev", host, "master", "br0", "up")
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "dev", "eth0", "up")

    def command(self, host: str, args: list[str]) -> list[str]:
        """`args` run on `host` (`ip netns exec` execs it: the process keeps the pid Popen gives)."""
        return ["ip", "netns", "exec", self.namespace(host), *args]

    def run(self, host: str, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(host, args), capture_output=True, text=True, **kwargs)

    def popen(self, host: str, args: list[str], log: Path | None = None, **kwargs) -> subprocess.Popen:
        """A long-running process on `host`, its output to `log` (or nowhere)."""
        if log is None:
            return subprocess.Popen(
                self.command(host, args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs
            )
        with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
            return subprocess.Popen(self.command(host, args), stdout=out, stderr=subprocess.STDOUT, **kwargs)

    def kill_host(self, host: str) -> int:
        """The whole host gone at once: SIGKILL to every process in its namespace."""
        return kill_all_in(self.namespace(host))

    def destroy(self) -> None:
        """Every process in every namespace killed, then the namespaces deleted (their veths go with them)."""
        for namespace in reversed(self.made):
            kill_all_in(namespace)
        for namespace in reversed(self.made):
            ip("netns", "delete", namespace, check=False)
        self.made.clear()
