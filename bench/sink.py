"""A minimal SMTP sink for the send benchmark: it accepts every message and counts them, nothing more.

aiosmtpd parses and dispatches far more than a benchmark needs and tops out near 450 messages/s, so it
would measure itself. This one answers each command with the shortest valid reply and only looks for
the end of DATA. It offers PIPELINING (RFC 2920), as Postfix and the large relays do, unless started with
--no-pipelining. `XSTAT` (not SMTP) answers "250 <messages> <monotonic time of the last one> <bytes of it>".

--record FILE also writes a line per recipient of each accepted message, "<monotonic time> <client ip:port>
<address>", flushed every tenth of a second: who received what, from which host and connection, and when (the
multi-host test reads it from outside the sink's network namespace). --links FILE writes a line per accepted
message, "<monotonic time> <path> <path> ...": the tracking links it carries (`/o/…`, `/c/…`, `/act/…`, quoted-printable
soft breaks undone, each once), for bench/launch_hour.py to replay what its recipients do with the real tokens.
--host: the address to listen on.

    python bench/sink.py PORT [--no-pipelining] [--host 127.0.0.1] [--record FILE] [--links FILE]
"""

import argparse
import asyncio
import contextlib
import re
import time

STATE = {"count": 0, "last_at": 0.0, "size": 0}
REPLIES = {
    b"EHLO": b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
    b"HELO": b"250 sink\r\n",
    b"MAIL": b"250 OK\r\n",
    b"RCPT": b"250 OK\r\n",
    b"RSET": b"250 OK\r\n",
    b"NOOP": b"250 OK\r\n",
    b"DATA": b"354 go on\r\n",
}
RECORD = None  # the --record file, when given
LINKS = None  # the --links file, when given
TRACKING_PATH = re.compile(rb"https?://[^/\s\"'<>]+(/(?:o|c|act)/[A-Za-z0-9_.-]+)")


class Sink(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer, self.in_data = transport, bytearray(), False
        host, port = transport.get_extra_info("peername")[:2]
        self.peer, self.recipients = f"{host}:{port}", []
        transport.write(b"220 sink\r\n")

    def data_received(self, data: bytes):
        self.buffer += data
        replies = []  # a pipelined group is answered in one write, as RFC 2920 asks of servers
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    break
                STATE["count"] += 1
                STATE["last_at"], STATE["size"] = time.monotonic(), end
                if RECORD:
                    at = STATE["last_at"]
                    RECORD.write("".join(f"{at:.6f} {self.peer} {rcpt}\n" for rcpt in self.recipients))
                if LINKS:
                    content = bytes(self.buffer[:end]).replace(b"=\r\n", b"")  # undo quoted-printable's soft breaks
                    paths = dict.fromkeys(TRACKING_PATH.findall(content))  # the text and the HTML part: each once
                    LINKS.write(f"{STATE['last_at']:.6f} {b' '.join(paths).decode()}\n")
                del self.buffer[: end + 5]
                self.in_data, self.recipients = False, []
                replies.append(b"250 OK queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            line = bytes(self.buffer[:end])
            verb = line[:4].upper()
            del self.buffer[: end + 2]
            if verb == b"DATA":
                self.in_data = True
            if verb in (b"MAIL", b"RSET"):
                self.recipients = []
            if verb == b"RCPT" and RECORD:
                self.recipients.append(line.partition(b"<")[2].partition(b">")[0].decode())
            if verb == b"QUIT":
                self.transport.write(b"".join(replies) + b"221 bye\r\n")
                self.transport.close()
                return
            if verb == b"XSTA":
                replies.append(f"250 {STATE['count']} {STATE['last_at']} {STATE['size']}\r\n".encode())
                continue
            replies.append(REPLIES.get(verb, b"250 OK\r\n"))
        if replies:
            self.transport.write(b"".join(replies))


def flush_record(loop) -> None:
    for each in (RECORD, LINKS):
        if each:
            each.flush()
    loop.call_later(0.1, flush_record, loop)


async def main(host: str, port: int):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, host, port, backlog=512)
    if RECORD or LINKS:
        flush_record(loop)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--no-pipelining", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--record", help="a file to write each recipient to, with the time and the client")
    parser.add_argument("--links", help="a file to write each message's tracking links to, with the time")
    args = parser.parse_args()
    if args.no_pipelining:
        REPLIES[b"EHLO"] = b"250-sink\r\n250 8BITMIME\r\n"
    with contextlib.ExitStack() as files:
        if args.record:
            RECORD = files.enter_context(open(args.record, "w", buffering=1 << 20))
        if args.links:
            LINKS = files.enter_context(open(args.links, "w", buffering=1 << 20))
        asyncio.run(main(args.host, args.port))
