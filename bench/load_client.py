"""The recipients' side of bench/launch_hour.py: each request sent at its time, on a connection of its own.

Reads requests from stdin, one a line: "id<TAB>family (v4|v6)<TAB>method<TAB>path<TAB>user agent<TAB>due", due on
the monotonic clock the bench and this process share; "end<TAB>T" says that nothing due after T is to be sent, and
the end of stdin that no more will come. Each request waits for its time, then connects, writes, reads the answer
to its end and closes, as a mail client or a browser does (gunicorn's sync workers close every connection). The
clock is open: a request does not wait for another's answer, so a slow web shows as latency, not as a lower rate.
Writes to ANSWERS "id status latency_ms lag_ms answered_at" per request sent (status 0: no answer, the connection
failed; -1: due before the end but never sent, every connection busy),
where latency runs from the connect to the last byte read and lag is how late the connect started.

wrk could not do this: it holds one connection per slot and opens the next one when an answer ends, so a
request that is not yet due keeps either the old connection unclosed (gunicorn then waits in close_graceful,
up to 2 s, for the client's FIN) or a new one idle (a sync worker accepts it and blocks reading it); either holds
one of the web's four workers.

    python bench/load_client.py HOST_V4 HOST_V6 PORT ANSWERS < requests
"""

import asyncio
import sys
import time

LIMIT = 64  # connections at once, at most: past it a request waits here (its lag), not in the web's backlog


WAITING: dict[str, tuple[float, asyncio.Task]] = {}  # the requests not yet due: id → (due, task)


async def one(host: str, port: int, request: bytes, request_id: str, due: float, gate, out) -> None:
    await asyncio.sleep(max(0.0, due - time.monotonic()))
    async with gate:
        WAITING.pop(request_id)  # sent from here on, whatever comes
        started = time.monotonic()
        status = 0
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            answer = await reader.read()  # to the end: the web closes after its answer
            writer.close()
            head = answer[: answer.find(b"\r\n")].split()
            status = int(head[1]) if len(head) > 1 else 0
        except (OSError, ValueError):
            pass
        done = time.monotonic()
    out.write(f"{request_id} {status} {(done - started) * 1000:.3f} {(started - due) * 1000:.3f} {done:.6f}\n")


async def main(hosts: dict[str, str], port: int, out) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    gate = asyncio.Semaphore(LIMIT)
    tasks: set[asyncio.Task] = set()
    while line := (await reader.readline()).decode():
        fields = line.rstrip("\n").split("\t")
        if fields[0] == "end":
            until = float(fields[1])
            for request_id, (due, task) in list(WAITING.items()):
                task.cancel()  # not yet sent: it never is
                if due <= until:  # it was due, but every connection was busy: the web is behind
                    out.write(f"{request_id} -1 0 0 0\n")
            continue
        request_id, family, method, path, agent, due = fields
        head = f"{method} {path} HTTP/1.1\r\nHost: mobilise\r\nConnection: close\r\n"
        if agent:
            head += f"User-Agent: {agent}\r\n"
        if method == "POST":  # the action page's form: no field, no CSRF token (the link is signed)
            head += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"
        task = asyncio.create_task(
            one(hosts[family], port, (head + "\r\n").encode(), request_id, float(due), gate, out)
        )
        WAITING[request_id] = (float(due), task)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks, return_exceptions=True)
    out.flush()


if __name__ == "__main__":
    with open(sys.argv[4], "w", buffering=1 << 16) as answers:  # not a pipe: it would fill while the bench feeds us
        asyncio.run(main({"v4": sys.argv[1], "v6": sys.argv[2]}, int(sys.argv[3]), answers))
