"""The load generator: a process of its own (asyncio + aiohttp), so its CPU is not the app's.

Reads a JSON plan on stdin, prints a JSON result on stdout. Phases, in order:

1. sign-in: every candidate of the plan GETs the code page (CSRF token) and POSTs its code,
   as a browser does; the session cookie it gets back is its identity from then on;
2. ceiling: `concurrency` clients request the trivial endpoint back to back for `seconds`;
3. poll saturation: the same number of clients poll `/me/state` back to back (each request as
   a different signed-in candidate, with that candidate's ETag), for `seconds`;
4. held load: every signed-in candidate polls every `interval` seconds, as the page does, for
   `held_seconds`: what the candidates actually see (latency, errors).

Connections are pooled (`connections`), as nginx pools its upstream connections: the
benchmark measures the app, not TCP handshakes.
"""

import asyncio
import json
import random
import re
import sys
import time

import aiohttp

SQL_HEADER = "X-Bench-SQL-Queries"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HTMX_HEADERS = {"HX-Request": "true", "HX-Current-URL": "/me"}


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.error_samples: list[str] = []
        self.status: dict[str, int] = {}
        self.sql: dict[str, list[int]] = {}

    def ok(self, status: int, seconds: float, sql: str | None) -> None:
        self.latencies.append(seconds)
        self.status[str(status)] = self.status.get(str(status), 0) + 1
        if sql is not None:
            self.sql.setdefault(str(status), []).append(int(sql))

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)

    def summary(self, seconds: float) -> dict:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

        return {
            "requests": len(ordered),
            "per_s": round(len(ordered) / seconds, 1) if seconds else None,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "errors": self.errors,
            "error_samples": self.error_samples,
            "status": self.status,
            "sql_queries": {
                status: {"min": min(v), "max": max(v), "mean": round(sum(v) / len(v), 2)}
                for status, v in self.sql.items()
            },
        }


class Candidate:
    def __init__(self, code: str, stage: str) -> None:
        self.code = code
        self.stage = stage
        self.cookie: str | None = None
        self.etag: str | None = None


async def sign_in(http: aiohttp.ClientSession, base: str, who: Candidate, stats: Stats) -> None:
    try:
        async with http.get(base + "/") as page:
            html = await page.text()
            cookie = page.cookies.get("session")
        token = CSRF.search(html)
        if page.status != 200 or token is None or cookie is None:
            stats.error(f"code page {page.status}")
            return
        async with http.post(
            base + "/",
            data={"code": who.code, "csrf_token": token.group(1)},
            headers={"Cookie": f"session={cookie.value}"},
            allow_redirects=False,
        ) as response:
            await response.read()
            signed = response.cookies.get("session")
            if response.status != 303 or signed is None:
                stats.error(f"sign-in {response.status}")
                return
            who.cookie = signed.value
            stats.ok(response.status, 0.0, None)
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error(f"sign-in {type(exc).__name__}")


async def poll(http: aiohttp.ClientSession, base: str, who: Candidate, stats: Stats) -> None:
    headers = {**HTMX_HEADERS, "Cookie": f"session={who.cookie}"}
    if who.etag:
        headers["If-None-Match"] = who.etag
    started = time.perf_counter()
    try:
        async with http.get(
            f"{base}/me/state?stage={who.stage}", headers=headers, allow_redirects=False
        ) as response:
            await response.read()
            elapsed = time.perf_counter() - started
            if response.status not in (200, 304) or "HX-Redirect" in response.headers:
                stats.error(f"poll {response.status} {response.headers.get('HX-Redirect', '')}")
                return
            who.etag = response.headers.get("ETag", who.etag)
            stats.ok(response.status, elapsed, response.headers.get(SQL_HEADER))
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error(f"poll {type(exc).__name__}")


async def get_plain(http: aiohttp.ClientSession, url: str, stats: Stats) -> None:
    started = time.perf_counter()
    try:
        async with http.get(url) as response:
            await response.read()
            if response.status != 200:
                stats.error(f"{url} {response.status}")
                return
            stats.ok(
                response.status, time.perf_counter() - started, response.headers.get(SQL_HEADER)
            )
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error(f"{url} {type(exc).__name__}")


async def closed_loop(seconds: float, concurrency: int, one_request) -> float:
    """`concurrency` clients, each sending its next request as soon as the last one answered."""
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def client(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            await one_request(i)
            i += concurrency

    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return time.perf_counter() - started


async def held_load(
    http, base: str, people: list[Candidate], seconds: float, interval: float, stats: Stats
) -> float:
    """Every candidate polls every `interval` s, starting at a random moment of the first one."""
    started = time.perf_counter()
    deadline = started + seconds

    async def page(who: Candidate) -> None:
        next_at = started + random.uniform(0, interval)
        while next_at < deadline:
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await poll(http, base, who, stats)
            # htmx's `every 2s` waits 2 s after each answer, not on a fixed grid.
            next_at = time.perf_counter() + interval

    await asyncio.gather(*(page(who) for who in people))
    # Polls started in the window, over the window (the last answers may land just after it).
    return seconds


async def run(plan: dict) -> dict:
    base = plan["base_url"]
    people = [Candidate(code, stage) for code, stage in plan["candidates"]]
    connector = aiohttp.TCPConnector(limit=plan["connections"])
    timeout = aiohttp.ClientTimeout(total=plan.get("timeout", 10))
    result: dict = {}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        signin = Stats()
        started = time.perf_counter()
        gate = asyncio.Semaphore(plan["concurrency"])

        async def sign_one(who: Candidate) -> None:
            async with gate:
                await sign_in(http, base, who, signin)

        await asyncio.gather(*(sign_one(who) for who in people))
        result["sign_in"] = {
            "signed_in": sum(1 for who in people if who.cookie),
            "seconds": round(time.perf_counter() - started, 1),
            "errors": signin.errors,
            "error_samples": signin.error_samples,
        }
        people = [who for who in people if who.cookie]
        if not people:
            return result

        # Warm-up: every candidate's first poll (200 with an ETag), not measured.
        warm = Stats()
        for chunk in range(0, len(people), plan["concurrency"]):
            await asyncio.gather(
                *(
                    poll(http, base, who, warm)
                    for who in people[chunk : chunk + plan["concurrency"]]
                )
            )
        result["first_poll"] = warm.summary(0)

        ceiling = Stats()
        elapsed = await closed_loop(
            plan["seconds"],
            plan["concurrency"],
            lambda i: get_plain(http, base + plan["ceiling_path"], ceiling),
        )
        result["ceiling"] = ceiling.summary(elapsed)

        saturated = Stats()
        elapsed = await closed_loop(
            plan["seconds"],
            plan["concurrency"],
            lambda i: poll(http, base, people[i % len(people)], saturated),
        )
        result["poll_saturated"] = saturated.summary(elapsed)

        held = Stats()
        elapsed = await held_load(http, base, people, plan["held_seconds"], plan["interval"], held)
        result["held"] = held.summary(elapsed)
        result["held"]["offered_per_s"] = round(len(people) / plan["interval"], 1)
    return result


def main() -> None:
    plan = json.load(sys.stdin)
    random.seed(plan.get("seed", 2026))
    json.dump(asyncio.run(run(plan)), sys.stdout)


if __name__ == "__main__":
    main()
