"""A small HTTP/1.1 client for the held load's candidate pages: keep-alive GETs, nothing else.

The held load stands in for 3,000 browsers, each on a machine of its own; here they share the
app's two cores. aiohttp's client spends about 0.2 ms of CPU per request on its machinery
(request and response objects, header multidicts, cookie handling the pages do not need),
which at 1,700 pages' requests a second was a third of a core taken from the app, nginx and
PostgreSQL. This one writes the request line and headers, reads the status line, the headers
and a Content-Length or chunked body from a pooled connection, and nothing more. Staff pages
and everything else keep aiohttp.
"""

import asyncio
import time
from collections import deque
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as nginx sends it."""


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Http1Pool:
    """Keep-alive connections to one server, at most `connections` at once (as a browser
    population has as many as it has pages). A request that takes longer than `timeout` has
    its connection closed by one watchdog (a timer per request cost the load generator as much
    as the request itself) and fails with TimeoutError."""

    def __init__(self, base_url: str, connections: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.authority = parts.netloc
        self.timeout = timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._free = connections
        self._queued: deque[asyncio.Future] = deque()
        self._busy: dict[asyncio.StreamWriter, float] = {}  # in use -> since when
        self._timed_out: set[asyncio.StreamWriter] = set()
        self._watchdog: asyncio.Task | None = None

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch())
        if self._free == 0:
            slot = asyncio.get_running_loop().create_future()
            self._queued.append(slot)
            await slot  # handed over by the request that finished
        else:
            self._free -= 1
        try:
            return await self._get(path, headers)
        finally:
            if self._queued:
                self._queued.popleft().set_result(None)
            else:
                self._free += 1

    async def _get(self, path: str, headers: dict[str, str] | None) -> Response:
        connection = self._idle.pop() if self._idle else None
        writer = None
        try:
            if connection is None:  # rare (a new page's first request): a timer of its own
                connection = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.timeout
                )
            writer = connection[1]
            self._busy[writer] = time.monotonic()
            response, keep = await _exchange(*connection, self.authority, path, headers)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            if writer is not None:
                writer.close()
                if writer in self._timed_out:
                    raise TimeoutError(f"no answer in {self.timeout} s") from exc
            raise HttpError(type(exc).__name__) from exc
        finally:
            if writer is not None:
                self._busy.pop(writer, None)
                self._timed_out.discard(writer)  # an answer that beat the watchdog's abort
        if keep:
            self._idle.append(connection)
        else:
            connection[1].close()
        return response

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.timeout / 10)
            late = time.monotonic() - self.timeout
            for writer, since in list(self._busy.items()):
                if since < late:
                    self._timed_out.add(writer)
                    writer.transport.abort()  # the read waiting on it fails at once

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _exchange(reader, writer, authority: str, path: str, headers) -> tuple[Response, bool]:
    lines = [f"GET {path} HTTP/1.1", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, _, rest = head[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {head[0]!r}")
    status = int(rest[:3])
    answer: dict[str, str] = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            answer[name.strip().lower()] = value.strip()
    if status in (204, 304) or 100 <= status < 200:
        body = b""
    elif answer.get("transfer-encoding", "").lower() == "chunked":
        body = await _chunked(reader)
    else:
        body = await reader.readexactly(int(answer.get("content-length", "0")))
    keep = answer.get("connection", "").lower() != "close"
    return Response(status, answer, body), keep


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers from nginx: the closing empty line
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
