"""The held load's small HTTP/1.1 client (bench/http1.py) against a real local server: what it
reads is what was sent, connections are kept and reused, and a server that never answers or
hangs up costs the request, not the run."""

import asyncio

import pytest

from bench.http1 import Http1Pool, HttpError


class Server:
    """Answers each request by its path: /len (Content-Length), /chunked, /304, /close
    (Connection: close), /hang (never answers). Counts connections and requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.seen: list[tuple[str, dict]] = []
        self.writers: list = []

    async def handle(self, reader, writer) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
                path = head[0].split(" ")[1]
                headers = dict(line.split(": ", 1) for line in head[1:] if line)
                self.seen.append((path, headers))
                if path == "/hang":
                    await asyncio.sleep(60)
                elif path == "/len":
                    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: "v1"\r\n\r\nhello')
                elif path == "/chunked":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n"
                    )
                elif path == "/304":
                    writer.write(b"HTTP/1.1 304 Not Modified\r\nX-Poll-Interval: 10\r\n\r\n")
                elif path == "/close":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )
                    await writer.drain()
                    writer.close()
                    return
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def run(scenario):
    async def main():
        server = Server()
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        pool = Http1Pool(f"http://127.0.0.1:{port}", connections=4, timeout=0.5)
        try:
            return await scenario(pool, server)
        finally:
            pool.close()
            for writer in server.writers:
                writer.close()
            listening.close()
            await listening.wait_closed()
            await asyncio.sleep(0.05)  # the closed transports' last callbacks

    return asyncio.run(main())


def test_bodies_headers_and_statuses_are_read_as_sent():
    async def scenario(pool, server):
        plain = await pool.get("/len", {"If-None-Match": '"v0"'})
        chunked = await pool.get("/chunked")
        unchanged = await pool.get("/304")
        return plain, chunked, unchanged, server

    plain, chunked, unchanged, server = run(scenario)
    assert (plain.status, plain.body, plain.headers["etag"]) == (200, b"hello", '"v1"')
    assert (chunked.status, chunked.body) == (200, b"abcdefg")
    assert (unchanged.status, unchanged.body, unchanged.headers["x-poll-interval"]) == (
        304,
        b"",
        "10",
    )
    assert server.seen[0][1]["If-None-Match"] == '"v0"'
    assert server.seen[0][1]["Host"].startswith("127.0.0.1:")
    assert server.connections == 1  # one kept-alive connection for all three


def test_connection_close_is_honoured_and_the_next_request_opens_another():
    async def scenario(pool, server):
        first = await pool.get("/close")
        second = await pool.get("/len")
        return first, second, server

    first, second, server = run(scenario)
    assert first.body == b"ok" and second.body == b"hello"
    assert server.connections == 2


def test_a_server_that_never_answers_times_out_and_the_pool_goes_on():
    async def scenario(pool, server):
        with pytest.raises(TimeoutError):
            await pool.get("/hang")
        return await pool.get("/len")

    assert run(scenario).body == b"hello"


def test_a_refused_connection_is_the_clients_error_not_a_crash():
    async def scenario():
        pool = Http1Pool("http://127.0.0.1:1", connections=2, timeout=0.5)
        try:
            with pytest.raises(HttpError):
                await pool.get("/len")
        finally:
            pool.close()
            await asyncio.sleep(0.05)

    asyncio.run(scenario())


def test_more_requests_than_connections_wait_their_turn():
    async def scenario(pool, server):
        answers = await asyncio.gather(*(pool.get("/len") for _ in range(20)))
        return answers, server

    answers, server = run(scenario)
    assert [a.body for a in answers] == [b"hello"] * 20
    assert server.connections <= 4
