"""A minimal SMTP sink for the send benchmark: it accepts every message and counts them, nothing more.

aiosmtpd parses and dispatches far more than a benchmark needs and tops out near 450 messages/s, so it
would measure itself. This one answers each command with the shortest valid reply and only looks for
the end of DATA. It offers PIPELINING (RFC 2920), as Postfix and the large relays do, unless started with
--no-pipelining. `XSTAT` (not SMTP) answers "250 <messages> <monotonic time of the last one> <bytes of it>".

    python bench/sink.py PORT [--no-pipelining]
"""

import asyncio
import sys
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


class Sink(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer, self.in_data = transport, bytearray(), False
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
                del self.buffer[: end + 5]
                self.in_data = False
                replies.append(b"250 OK queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                break
            verb = bytes(self.buffer[:4]).upper()
            del self.buffer[: end + 2]
            if verb == b"DATA":
                self.in_data = True
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


async def main(port: int):
    server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", port, backlog=512)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if "--no-pipelining" in sys.argv:
        REPLIES[b"EHLO"] = b"250-sink\r\n250 8BITMIME\r\n"
    asyncio.run(main(int(sys.argv[1])))
