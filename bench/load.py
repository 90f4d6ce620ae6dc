"""The load generator: a process of its own (asyncio + aiohttp), so its CPU is not the app's.

Reads a JSON plan on stdin, prints a JSON result on stdout. Phases, in order:

1. sign-in: every candidate of the plan GETs the code page (CSRF token) and POSTs its code,
   as a browser does; the session cookie it gets back is its identity from then on;
2. ceiling: `concurrency` clients request the trivial endpoint back to back for `seconds`;
3. poll saturation: the same number of clients poll `/me/state` back to back (each request as
   a different signed-in candidate, with that candidate's ETag), for `seconds`;
4. held load (`held_adaptive`), through `front_url` (nginx): every signed-in page at its own
   X-Poll-Interval with its pulse, staff consoles open, calls and spot checks, for
   `held_seconds`: what the candidates actually see (latency, errors, rings).

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

from bench import cpu
from bench.http1 import Http1Pool, HttpError, Response

SQL_HEADER = "X-Bench-SQL-Queries"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HTMX_HEADERS = {"HX-Request": "true", "HX-Current-URL": "/me"}


def log(message: str) -> None:
    print(f"[bench.load] {message}", file=sys.stderr, flush=True)


def p99_by_window(stats: "Stats", started: float, window: float) -> list:
    """The p99 of each `window` seconds of a phase, in order: a tail spread evenly over the
    minute is a full machine, one bad window is an event (a worker restart, a burst)."""
    windows: dict[int, list[float]] = {}
    for at, seconds in zip(stats.answered_at, stats.latencies, strict=True):
        windows.setdefault(int((at - started) // window), []).append(seconds)
    return [percentile_ms(sorted(windows[n]), 0.99) for n in sorted(windows)]


class LoopLag:
    """How late this process's own event loop wakes a sleeper: time every request measured here
    spent waiting for the load generator itself, not for the app."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.late: list[float] = []

    async def run(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            asked = time.perf_counter()
            await asyncio.sleep(self.every)
            self.late.append(time.perf_counter() - asked - self.every)

    def summary(self) -> dict:
        ordered = sorted(self.late)
        return {
            "p50_ms": percentile_ms(ordered, 0.50, 1),
            "p99_ms": percentile_ms(ordered, 0.99, 1),
            "max_ms": percentile_ms(ordered, 1.0, 1),
        }


def percentile_ms(ordered: list[float], p: float, ndigits: int | None = None):
    """The p-quantile of sorted seconds in milliseconds (the sample at rank p·n, the last for
    p = 1), rounded to `ndigits` (None: a whole number); None without samples."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, ndigits)


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.answered_at: list[float] = []  # when each answer came (perf_counter)
        self.errors = 0
        self.error_samples: list[str] = []
        self.status: dict[str, int] = {}
        self.sql: dict[str, list[int]] = {}
        self.cache: dict[str, int] = {}

    def ok(self, status: int, seconds: float, sql: str | None) -> None:
        self.latencies.append(seconds)
        self.answered_at.append(time.perf_counter())
        self.status[str(status)] = self.status.get(str(status), 0) + 1
        if sql is not None and sql.isdigit():
            self.sql.setdefault(str(status), []).append(int(sql))
        elif sql is not None:  # nginx's X-Cache for the pulses: HIT, MISS, EXPIRED...
            self.cache[sql] = self.cache.get(sql, 0) + 1

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)

    def summary(self, seconds: float) -> dict:
        ordered = sorted(self.latencies)
        return {
            "requests": len(ordered),
            "per_s": round(len(ordered) / seconds, 1) if seconds else None,
            "p50_ms": percentile_ms(ordered, 0.50, 1),
            "p99_ms": percentile_ms(ordered, 0.99, 1),
            "errors": self.errors,
            "error_samples": self.error_samples,
            "status": self.status,
            "sql_queries": {
                status: {"min": min(v), "max": max(v), "mean": round(sum(v) / len(v), 2)}
                for status, v in self.sql.items()
            },
            **({"cache": self.cache} if self.cache else {}),
        }


# The app's own time per kind of request in the held load (X-Bench-Server-Ms), by path with
# its numbers and tokens blanked: where the app's CPU goes.
SERVER_TIME: dict[str, list[float]] = {}
_ID = re.compile(r"/[0-9a-f]{12,}|/\d+|\?.*$")


def note_server_time(url: str, headers) -> None:
    value = headers.get("x-bench-server-ms")  # a lower-case dict, or aiohttp's any-case one
    if value is not None:
        kind = _ID.sub(lambda m: "/N" if m.group(0).startswith("/") else "", url)
        entry = SERVER_TIME.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += float(value)


def server_time_summary(seconds: float) -> dict:
    """The heaviest kinds first: requests, the app's milliseconds per second of load, mean."""
    ranked = sorted(SERVER_TIME.items(), key=lambda item: -item[1][1])
    return {
        kind: {
            "requests": n,
            "ms_per_s": round(total / seconds, 1),
            "mean_ms": round(total / n, 1),
        }
        for kind, (n, total) in ranked[:15]
    }


class Candidate:
    def __init__(
        self, code: str, stage: str, pulse: str = "", tag: str = "", panel: int = 0, cid: int = 0
    ) -> None:
        self.code = code
        self.stage = stage
        self.cookie: str | None = None
        self.etag: str | None = None
        self.pulse_url = pulse
        self.tag = tag
        self.panel = panel
        self.id = cid
        self.interval = 2.0  # what the last answer's X-Poll-Interval said
        self.pulse_version: str | None = None
        self.acted_ms = 0
        self.ringing = False


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


class Pages:
    """How the candidate pages' requests are sent: through aiohttp (the phases before the held
    load), or the held load's small client (bench/http1.py: its CPU is not the app's)."""

    def __init__(self, base: str, http=None, pool: Http1Pool | None = None) -> None:
        self.base, self.http, self.pool = base, http, pool

    async def get(self, path: str, headers: dict[str, str]) -> Response:
        if self.pool is not None:
            return await self.pool.get(path, headers)
        async with self.http.get(self.base + path, headers=headers, allow_redirects=False) as r:
            body = await r.read()
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, body)


FAILURES = (TimeoutError, aiohttp.ClientError, HttpError)


async def poll(pages: Pages, who: Candidate, stats: Stats) -> bytes:
    """One poll as the page sends it; returns the fragment (b"" for a 304 or a failure)."""
    headers = {**HTMX_HEADERS, "Cookie": f"session={who.cookie}"}
    if who.etag:
        headers["If-None-Match"] = who.etag
    started = time.perf_counter()
    try:
        response = await pages.get(f"/me/state?stage={who.stage}", headers)
    except FAILURES as exc:
        stats.error(f"poll {type(exc).__name__}")
        return b""
    elapsed = time.perf_counter() - started
    answer = response.headers
    note_server_time("/me/state", answer)
    if response.status not in (200, 304) or "hx-redirect" in answer:
        stats.error(f"poll {response.status} {answer.get('hx-redirect', '')}")
        return b""
    who.etag = answer.get("etag", who.etag)
    told = answer.get("x-poll-interval")
    if told and told.isdigit():
        who.interval = float(told)
    stats.ok(response.status, elapsed, answer.get(SQL_HEADER.lower()))
    return response.body


async def read_pulse(pages: Pages, who: Candidate, stats: Stats) -> bool:
    """The page's pulse read (candidate.js readPulse): True when it says "poll now"."""
    started = time.perf_counter()
    try:
        response = await pages.get(who.pulse_url, {})
        elapsed = time.perf_counter() - started
        note_server_time(who.pulse_url, response.headers)
        if response.status != 200:
            stats.error(f"pulse {response.status}")
            return True  # a page without its pulse polls (fast) instead
        answer = json.loads(response.body)
        stats.ok(response.status, elapsed, response.headers.get("x-cache"))
    except (*FAILURES, ValueError) as exc:
        stats.error(f"pulse {type(exc).__name__}")
        return True
    woken = who.pulse_version is None or answer["v"] != who.pulse_version
    who.pulse_version = answer["v"]
    for wake in answer["w"]:
        tag, _, at = wake.rpartition(".")
        if tag == who.tag and int(at) > who.acted_ms:
            woken, who.acted_ms = True, int(at)
    return woken


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


# --- staff: their pages' polls, the chiefs' calls and the assistants' spot checks -------------

POLLED = re.compile(r"<[^>]*\bhx-get=\"([^\"]+)\"[^>]*\bhx-trigger=\"[^\"]*every (\d+)s[^>]*>")
# The version the page was rendered at: staff.js sends it with the fragment's first poll too.
DATA_ETAG = re.compile(r'\bdata-etag="([^"]*)"')
ANY_CSRF = re.compile(r'(?:name="csrf_token"[^>]*value|name="csrf-token"[^>]*content)="([^"]+)"')


class Staff:
    def __init__(self, username: str, page: str, panel: int = 0) -> None:
        self.username = username
        self.page = page  # the console this person keeps open
        self.panel = panel
        self.cookie: str | None = None
        self.csrf: str | None = None
        self.fragments: list[list] = []  # [url, seconds, etag]


async def staff_sign_in(http, base: str, who: Staff, password: str, stats: Stats) -> None:
    try:
        async with http.get(base + "/staff/login") as page:
            html = await page.text()
            cookie = page.cookies.get("session")
        token = CSRF.search(html)
        if token is None or cookie is None:
            stats.error(f"staff login page {page.status}")
            return
        async with http.post(
            base + "/staff/login",
            data={"username": who.username, "password": password, "csrf_token": token.group(1)},
            headers={"Cookie": f"session={cookie.value}"},
            allow_redirects=False,
        ) as response:
            signed = response.cookies.get("session")
            if response.status != 302 or signed is None:
                stats.error(f"staff login {who.username} {response.status}")
                return
            who.cookie = signed.value
        async with http.get(base + who.page, headers={"Cookie": f"session={who.cookie}"}) as page:
            html = await page.text()
            if page.status != 200:
                stats.error(f"{who.page} {page.status}")
                return
        token = ANY_CSRF.search(html)
        who.csrf = token.group(1) if token else None
        seen = set()
        for tag in POLLED.finditer(html):
            url, seconds = tag.group(1).replace("&amp;", "&"), tag.group(2)
            etag = DATA_ETAG.search(tag.group(0))
            if url not in seen:
                seen.add(url)
                version = f'"{etag.group(1)}"' if etag and etag.group(1) else None
                who.fragments.append([url, float(seconds), version])
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error(f"staff {type(exc).__name__}")


async def staff_poll(http, base: str, who: Staff, fragment: list, stats: Stats) -> None:
    headers = {"HX-Request": "true", "Cookie": f"session={who.cookie}"}
    if fragment[2]:
        headers["If-None-Match"] = fragment[2]
    started = time.perf_counter()
    try:
        async with http.get(base + fragment[0], headers=headers, allow_redirects=False) as response:
            await response.read()
            note_server_time(fragment[0], response.headers)
            # 204: a fragment with nothing to show yet (the rest-room call not joined).
            if response.status not in (200, 204, 304):
                stats.error(f"staff poll {fragment[0]} {response.status}")
                return
            fragment[2] = response.headers.get("ETag", fragment[2])
            stats.ok(
                response.status, time.perf_counter() - started, response.headers.get(SQL_HEADER)
            )
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error(f"staff poll {type(exc).__name__}")


async def staff_post(http, base: str, who: Staff, url: str, stats: Stats) -> bool:
    try:
        async with http.post(
            base + url,
            data={"csrf_token": who.csrf or ""},
            headers={"HX-Request": "true", "Cookie": f"session={who.cookie}"},
            allow_redirects=False,
        ) as response:
            await response.read()
            if response.status >= 400:
                stats.error(f"POST {url} {response.status}")
                return False
            return True
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error(f"POST {url} {type(exc).__name__}")
        return False


class Rings:
    """When a call or spot check was made, and when the candidate's page first showed it."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[str, float]] = {}  # candidate id -> (kind, sent at)
        self.seen: dict[str, list[float]] = {"call": [], "spot_check": []}
        self.missed: dict[str, int] = {"call": 0, "spot_check": 0}
        # How long the staff member's POST itself took (to its answer): the ring is that part,
        # then the way to the page (its pulse, nginx's copy, its poll).
        self.posts: dict[str, list[float]] = {"call": [], "spot_check": []}

    def posted(self, kind: str, seconds: float) -> None:
        self.posts[kind].append(seconds)

    def shown(self, who: Candidate) -> None:
        if who.id in self.waiting:
            kind, sent = self.waiting.pop(who.id)
            self.seen[kind].append(time.perf_counter() - sent)

    def summary(self) -> dict:
        for kind, _sent in self.waiting.values():
            self.missed[kind] += 1
        out = {}
        for kind, times in self.seen.items():
            ordered, posts = sorted(times), sorted(self.posts[kind])
            out[kind] = {
                "count": len(ordered),
                "not_shown": self.missed[kind],
                "p50_ms": percentile_ms(ordered, 0.50),
                "p99_ms": percentile_ms(ordered, 0.99),
                "max_ms": percentile_ms(ordered, 1.0),
                "post_p50_ms": percentile_ms(posts, 0.50),
                "post_p99_ms": percentile_ms(posts, 0.99),
            }
        return out


async def held_adaptive(
    http, pages: Pages, front: str, people, staff, plan: dict, stats: dict
) -> float:
    """Every signed-in page as candidate.js runs it: polls at its server-given interval, reads its
    pulse every `pulse_seconds` and polls at once when the pulse says so; staff keep their
    consoles open (every polled fragment at its own interval); each chief calls the next
    candidate once and each assistant spot-checks far-back candidates one after another."""
    seconds, pulse_every = plan["held_seconds"], plan.get("pulse_seconds", 2.0)
    SERVER_TIME.clear()  # the held load's only, not the phases before it
    started = time.perf_counter()
    deadline = started + seconds
    rings = Rings()
    by_id = {who.id: who for who in people}

    async def page(who: Candidate) -> None:
        next_poll = started + random.uniform(0, who.interval)
        next_pulse = started + random.uniform(0, pulse_every)
        while True:
            at = min(next_poll, next_pulse)
            if at >= deadline:
                return
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() >= next_pulse:
                if await read_pulse(pages, who, stats["pulse"]):
                    next_poll = time.perf_counter()
                next_pulse = time.perf_counter() + pulse_every
            if time.perf_counter() >= next_poll:
                body = await poll(pages, who, stats["held"])
                if b"data-incoming-call" in body:
                    rings.shown(who)
                next_poll = time.perf_counter() + who.interval

    async def console(who: Staff) -> None:
        async def fragment_loop(fragment: list) -> None:
            next_at = started + random.uniform(0, fragment[1])
            while next_at < deadline:
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                await staff_poll(http, front, who, fragment, stats["staff"])
                next_at = time.perf_counter() + fragment[1]

        await asyncio.gather(*(fragment_loop(f) for f in who.fragments))

    async def chief_calls(who: Staff, at: float) -> None:
        await asyncio.sleep(max(0, started + at - time.perf_counter()))
        first = plan["first_in_queue"].get(str(who.panel))
        if first is None or first not in by_id:
            return
        sent = time.perf_counter()
        rings.waiting[first] = ("call", sent)
        if not await staff_post(
            http, front, who, f"/examiner/panels/{who.panel}/call-next", stats["staff_actions"]
        ):
            rings.waiting.pop(first, None)
            return
        rings.posted("call", time.perf_counter() - sent)

    async def spot_checks(who: Staff) -> None:
        far = [c for c in plan["far_back"].get(str(who.panel), []) if c in by_id]
        random.shuffle(far)
        await asyncio.sleep(random.uniform(1, 4))
        for cid in far:
            if time.perf_counter() > deadline - 8:
                return
            base = f"/assistant/candidates/{cid}/spot-check"
            sent = time.perf_counter()
            rings.waiting[cid] = ("spot_check", sent)
            if not await staff_post(
                http, front, who, f"{base}/call_spot_check", stats["staff_actions"]
            ):
                rings.waiting.pop(cid, None)
                continue
            rings.posted("spot_check", time.perf_counter() - sent)
            # Hang up once the page rang (or after 6 s), then the next.
            until = time.perf_counter() + 6
            while cid in rings.waiting and time.perf_counter() < until:
                await asyncio.sleep(0.1)
            await staff_post(http, front, who, f"{base}/end_spot_check", stats["staff_actions"])
            await asyncio.sleep(2)

    chiefs = [w for w in staff if w.page.startswith("/examiner/")]
    assistants = [w for w in staff if w.page.startswith("/assistant/")]
    spacing = seconds / (len(chiefs) + 1)
    lag = LoopLag()
    await asyncio.gather(
        lag.run(deadline),
        *(page(who) for who in people),
        *(console(who) for who in staff if who.cookie),
        *(chief_calls(w, spacing * (n + 1)) for n, w in enumerate(chiefs) if w.cookie),
        *(spot_checks(w) for w in assistants if w.cookie),
    )
    stats["rings"] = rings.summary()
    stats["loop_lag"] = lag.summary()
    stats["p99_ms_by_10_s"] = p99_by_window(stats["held"], started, 10)
    return seconds


async def run(plan: dict) -> dict:
    base = plan["base_url"]
    people = [Candidate(*entry) for entry in plan["candidates"]]
    connector = aiohttp.TCPConnector(limit=plan["connections"])
    timeout = aiohttp.ClientTimeout(total=plan.get("timeout", 10))
    result: dict = {}
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        log(f"sign-in: {len(people)} candidates")
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

        direct = Pages(base, http)  # straight to gunicorn, before the held load
        # Warm-up: every candidate's first poll (200 with an ETag), not measured.
        warm = Stats()
        for chunk in range(0, len(people), plan["concurrency"]):
            await asyncio.gather(
                *(poll(direct, who, warm) for who in people[chunk : chunk + plan["concurrency"]])
            )
        result["first_poll"] = warm.summary(0)

        log(f"ceiling: {plan['ceiling_path']} flat out, {plan['seconds']} s")
        ceiling = Stats()
        elapsed = await closed_loop(
            plan["seconds"],
            plan["concurrency"],
            lambda i: get_plain(http, base + plan["ceiling_path"], ceiling),
        )
        result["ceiling"] = ceiling.summary(elapsed)

        log(f"polls flat out, {plan['seconds']} s")
        saturated = Stats()
        elapsed = await closed_loop(
            plan["seconds"],
            plan["concurrency"],
            lambda i: poll(direct, people[i % len(people)], saturated),
        )
        result["poll_saturated"] = saturated.summary(elapsed)

        front = plan.get("front_url", base)
        if front != base:
            # Through nginx every browser has connections of its own (nginx pools its own to
            # the app: `keepalive 64`), so the 64 above would queue the pages in this process.
            browsers = aiohttp.TCPConnector(limit=plan.get("front_connections", 1000))
            async with aiohttp.ClientSession(
                connector=browsers, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
            ) as pages:
                await _held_through(pages, front, people, plan, result)
        else:
            await _held_through(http, front, people, plan, result)
    return result


async def _held_through(http, front: str, people, plan: dict, result: dict) -> None:
    # Every browser has connections of its own; the small client pools as many as aiohttp's
    # connector for the staff below (`front_connections`).
    pool = Http1Pool(front, plan.get("front_connections", 1000), plan.get("timeout", 10))
    try:
        await _held_with(http, Pages(front, pool=pool), front, people, plan, result)
    finally:
        pool.close()


async def _held_with(http, pages: Pages, front: str, people, plan: dict, result: dict) -> None:
    # The pages have been open a while: each has read its pulse once (candidate.js polls
    # once on its first pulse, which a page just loaded does; these are not just loaded).
    settle = Stats()
    for chunk in range(0, len(people), plan["concurrency"]):
        await asyncio.gather(
            *(read_pulse(pages, who, settle) for who in people[chunk : chunk + plan["concurrency"]])
        )
    staff_signin = Stats()
    staff = [Staff(**s) for s in plan["staff"]]
    for who in staff:
        await staff_sign_in(http, front, who, plan["staff_password"], staff_signin)
    result["staff_sign_in"] = {
        "signed_in": sum(1 for w in staff if w.cookie),
        "fragments_polled": sum(len(w.fragments) for w in staff),
        "errors": staff_signin.errors,
        "error_samples": staff_signin.error_samples,
    }
    stats = {"held": Stats(), "pulse": Stats(), "staff": Stats(), "staff_actions": Stats()}
    intervals: dict[str, int] = {}
    for who in people:
        intervals[str(int(who.interval))] = intervals.get(str(int(who.interval)), 0) + 1
    log(f"held load: {len(people)} pages, {len(staff)} staff, {plan['held_seconds']} s")
    before = cpu.snapshot()
    elapsed = await held_adaptive(http, pages, front, people, staff, plan, stats)
    result["held_cpu_cores"] = cpu.cores_used(before, cpu.snapshot(), elapsed)
    result["held"] = stats["held"].summary(elapsed)
    result["held"]["intervals_at_start"] = intervals
    result["held"]["offered"] = result["held"]["requests"] + stats["held"].errors
    result["held"]["offered_per_s"] = round(result["held"]["offered"] / elapsed, 1)
    result["held"]["p99_ms_by_10_s"] = stats["p99_ms_by_10_s"]
    result["load_generator_lag"] = stats["loop_lag"]
    result["pulse"] = stats["pulse"].summary(elapsed)
    result["staff_polls"] = stats["staff"].summary(elapsed)
    result["staff_actions"] = {
        "errors": stats["staff_actions"].errors,
        "error_samples": stats["staff_actions"].error_samples,
    }
    result["rings"] = stats["rings"]
    result["server_time"] = server_time_summary(elapsed)


def main() -> None:
    import os

    if os.environ.get("BENCH_LOAD_NICE"):
        try:
            os.setpriority(os.PRIO_PROCESS, 0, int(os.environ["BENCH_LOAD_NICE"]))
        except PermissionError:
            log("no permission to raise the load generator's priority")
    plan = json.load(sys.stdin)
    random.seed(plan.get("seed", 2026))
    try:
        import uvloop  # bench/requirements.txt; the default loop still works without it
    except ImportError:
        json.dump(asyncio.run(run(plan)), sys.stdout)
    else:
        json.dump(uvloop.run(run(plan)), sys.stdout)


if __name__ == "__main__":
    main()
