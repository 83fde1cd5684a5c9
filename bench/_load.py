"""The load run's parts, shared by bench/load.py and tests/e2e/test_load_accounting.py.

A plan of pings (distinct mentions, some sent many times over mixed protocols, some whose source fails
half the time), the source blog that serves them on loopback, the senders, and the ledger read back
from the stack afterwards: the answers the senders got, the records in the table, the queues' depths.
Nothing here knows the stack's internals beyond what `linkback dev` writes to `<data-dir>/stack.json`.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
import requests

from linkback.model import mention_id
from linkback.urls import normalise_url
from linkback_infra.loopback_site import LoopbackSite, Page

PROTOCOLS = ("trackback", "pingback", "webmention")
# What the verifier may leave a mention in; "queued" is the only status that still waits for it.
FINAL = frozenset({"approved", "pending", "rejected", "spam", "deleted"})
HTML = "text/html; charset=utf-8"
SEND_TIMEOUT_S = 30
START_TIMEOUT_S = 90
READY = re.compile(r"ready in [\d.]+ s at (http://\S+)")
# The abuse limits the run must lift: one address sends everything, and every source is on one host.
UNLIMITED_ARGUMENTS = (
    "--parameter",
    "SenderPingsPerHour=1000000",
    "--parameter",
    "ResendIntervalSeconds=0",
    "--parameter",
    "SourceHostFetchesPerMinute=1000000",
)
# A failed verification redelivered after 5 s instead of the template's 180, and the verifier's
# back-off for a transient failure starting at 1 s: a flaky source is retried within the run.
RETRY_ARGUMENTS = ("--visibility-timeout", "5", "--parameter", "VerifyRetrySeconds=1")
DEV_ARGUMENTS = UNLIMITED_ARGUMENTS + RETRY_ARGUMENTS


# --------------------------------------------------------------------------- the posts and the replies


@dataclass(frozen=True)
class Post:
    """A post on the receiving site, and the reply a stranger wrote about it."""

    target: str
    title: str  # the reply's title: never all the words of the target's slug (that is what copies do)
    opening: str
    linking: str  # "{link}" is where the link to the target goes


POSTS = (
    Post(
        "https://example.com/posts/static-comments/",
        "Turning replies back on, one queue at a time",
        "For two years my site had no way to answer back: the generator writes plain files, and every "
        "hosted widget I tried wanted to load a megabyte of script and follow my readers around.",
        "Then I read {link}, which moves the whole thing behind a queue and checks each source page before "
        "showing anything. I copied the idea of storing the reason next to every rejected reply, because "
        "it turns a mystery into a sentence I can read over breakfast.",
    ),
    Post(
        "https://example.com/posts/verifying-pingbacks/",
        "What my blog checks before it shows a ping",
        "Most of what arrives at an old pingback endpoint is junk, and for a long time I simply switched "
        "mine off. Reading through the server logs last month changed my mind about that.",
        "The write-up on {link} convinced me to fetch the source and look for the link myself, with a "
        "timeout and a size limit, instead of trusting whatever the sender claims about its own page.",
    ),
    Post(
        "https://example.com/posts/dynamodb-single-table/",
        "One table was enough for my reading log",
        "I keep a log of the books I borrow from the library, and it grew from a spreadsheet into a tiny "
        "service with its own database, which is more than a reading log deserves.",
        "Following {link}, I put the loans, the reminders and the reviews under one key scheme, and the "
        "monthly bill went from a few dollars to a few cents without any code getting harder to follow.",
    ),
    Post(
        "https://example.com/posts/webmention-retries/",
        "Backing off politely when a server is down",
        "My home server sleeps between two and six in the morning, and any site that tries to reach it "
        "then gets nothing back. I would rather they tried again later than gave up on me.",
        "So I was glad to see {link} wait longer after each failed fetch and park the message somewhere "
        "visible after a handful of tries, instead of hammering a machine that is asleep.",
    ),
)
AUTHORS = (
    ("Ann Example", "Ann's notes"),
    ("Bruno Costa", "Field notes from Porto"),
    ("Chen Wei", "Small experiments"),
    ("Dagny Holm", "Holm & garden"),
    ("Emeka Obi", "Obi writes things down"),
    ("Fatima Rahman", "Margins"),
    ("Gustavo Lima", "The long way round"),
    ("Hanna Berg", "Berg's workbench"),
)


@dataclass(frozen=True)
class Mention:
    """One distinct (source, target): a page on the source blog, sent `copies` times."""

    number: int
    path: str
    post: Post
    author: str
    blog_name: str
    flaky: bool  # the source answers 503 to every other request
    copies: int = 1

    @property
    def target(self) -> str:
        return self.post.target


def reply_page(mention: Mention) -> str:
    """A reply as an indieweb blog publishes it: an h-entry with its author, two paragraphs of the
    author's own words, one of them linking to the target."""
    day = mention.number % 28 + 1
    link = f'<a href="{mention.target}">this post about it</a>'
    profile = "https://" + mention.author.split()[0].lower() + ".example.net/"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{mention.post.title} · {mention.blog_name}</title>
</head>
<body>
<header><a href="/">{mention.blog_name}</a> · <a href="/archive/">Archive</a></header>
<main>
<article class="h-entry">
<h1 class="p-name">{mention.post.title}</h1>
<p>By <a class="p-author h-card" href="{profile}">{mention.author}</a>,
<a class="u-url" href="{mention.path}"><time class="dt-published" datetime="2024-06-{day:02d}T08:15:00+00:00">{day}
June 2024</time></a></p>
<div class="e-content">
<p>{mention.post.opening}</p>
<p>{mention.post.linking.format(link=link)}</p>
</div>
</article>
</main>
<footer><p>Written by {mention.author}. Replies welcome by mail.</p></footer>
</body>
</html>
"""


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    mentions: tuple[Mention, ...]
    requests: tuple[tuple[Mention, str], ...]  # (mention, protocol) in the order they are handed to senders

    @property
    def flaky(self) -> tuple[Mention, ...]:
        return tuple(m for m in self.mentions if m.flaky)

    @property
    def repeated(self) -> tuple[Mention, ...]:
        return tuple(m for m in self.mentions if m.copies > 1)


def plan(pings: int, *, repeated: int, copies: int, flaky_every: int = 4, seed: int = 2024) -> Plan:
    """`repeated` mentions sent `copies` times each, the rest of the `pings` one distinct mention each,
    shuffled together; every `flaky_every`-th mention's source is flaky. Protocols alternate over the
    shuffled order, so a repeated mention arrives by all three."""
    singles = pings - repeated * copies
    if singles < 0:
        raise ValueError(f"{repeated} mentions x {copies} copies is more than {pings} pings")
    mentions = []
    for number in range(repeated + singles):
        author, blog_name = AUTHORS[number % len(AUTHORS)]
        post = POSTS[number % len(POSTS)]
        mentions.append(
            Mention(
                number=number,
                path=f"/2024/06/reply-{number:05d}/",
                post=post,
                author=author,
                blog_name=blog_name,
                flaky=number % flaky_every == flaky_every - 1,
                copies=copies if number < repeated else 1,
            )
        )
    order = [mention for mention in mentions for _ in range(mention.copies)]
    random.Random(seed).shuffle(order)
    return Plan(tuple(mentions), tuple((m, PROTOCOLS[i % len(PROTOCOLS)]) for i, m in enumerate(order)))


class SourceBlog:
    """The plan's pages on loopback; a flaky page answers 503 to its 1st, 3rd, 5th… request."""

    def __init__(self, mentions: Iterable[Mention]) -> None:
        self.pages = {mention.path: mention for mention in mentions}
        self.answered: Counter[str] = Counter()
        self.unavailable = 0
        self._lock = threading.Lock()
        self.site = LoopbackSite(fallback=self._page)

    def url(self, mention: Mention) -> str:
        return self.site.url(mention.path)

    def _page(self, path: str) -> Page | None:
        mention = self.pages.get(path)
        if mention is None:
            return None
        with self._lock:
            self.answered[path] += 1
            fails = mention.flaky and self.answered[path] % 2 == 1
            self.unavailable += fails
        if fails:
            return 503, "text/plain", "down for maintenance, back in a moment"
        return 200, HTML, reply_page(mention)

    @property
    def fetches(self) -> int:
        return sum(self.answered.values())

    def stop(self) -> None:
        self.site.stop()


# --------------------------------------------------------------------------- the senders


@dataclass(frozen=True)
class Answer:
    mention: Mention
    protocol: str
    http_status: int
    outcome: str  # "accepted" | "duplicate" (Pingback fault 48) | "refused"
    reason: str = ""  # why it was refused, as the protocol said it
    seconds: float = 0.0


_local = threading.local()


def _session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def send(base_url: str, blog: SourceBlog, mention: Mention, protocol: str) -> Answer:
    source = blog.url(mention)
    started = time.perf_counter()
    try:
        if protocol == "trackback":
            # The TrackBack claims what the page shows (its title and blog name), as a genuine one does.
            answer = _session().post(
                f"{base_url}/trackback?target={quote(mention.target, safe='')}",
                data={"url": source, "title": mention.post.title, "blog_name": mention.blog_name},
                timeout=SEND_TIMEOUT_S,
            )
            outcome, reason = _trackback_outcome(answer)
        elif protocol == "pingback":
            body = xmlrpc.client.dumps((source, mention.target), "pingback.ping")
            answer = _session().post(
                f"{base_url}/pingback", data=body, headers={"Content-Type": "text/xml"}, timeout=SEND_TIMEOUT_S
            )
            outcome, reason = _pingback_outcome(answer)
        else:
            answer = _session().post(
                f"{base_url}/webmention", data={"source": source, "target": mention.target}, timeout=SEND_TIMEOUT_S
            )
            accepted = answer.status_code in (200, 201, 202)
            reason = "" if accepted else f"HTTP {answer.status_code}: {answer.text.strip()[:80]}"
            outcome = "accepted" if accepted else "refused"
    except requests.RequestException as error:
        return Answer(mention, protocol, 0, "refused", f"no answer: {type(error).__name__}")
    return Answer(mention, protocol, answer.status_code, outcome, reason, time.perf_counter() - started)


def _trackback_outcome(answer: requests.Response) -> tuple[str, str]:
    if answer.status_code == 200 and re.search(rb"<error>\s*0\s*</error>", answer.content):
        return "accepted", ""
    message = re.search(r"<message>(.*?)</message>", answer.text, re.S)
    return "refused", f"HTTP {answer.status_code}: " + (message.group(1).strip()[:80] if message else "no <message>")


def _pingback_outcome(answer: requests.Response) -> tuple[str, str]:
    if answer.status_code != 200:
        return "refused", f"HTTP {answer.status_code}"
    try:
        xmlrpc.client.loads(answer.content)
    except xmlrpc.client.Fault as fault:
        # "0x0030 (48) The pingback has already been registered": the mention is there already.
        if fault.faultCode == 48:
            return "duplicate", ""
        return "refused", f"fault {fault.faultCode}: {fault.faultString[:80]}"
    except Exception as error:  # not XML-RPC at all
        return "refused", f"unreadable reply: {type(error).__name__}"
    return "accepted", ""


def send_all(base_url: str, blog: SourceBlog, the_plan: Plan, senders: int) -> list[Answer]:
    with ThreadPoolExecutor(senders, thread_name_prefix="sender") as pool:
        return list(pool.map(lambda request: send(base_url, blog, *request), the_plan.requests))


# --------------------------------------------------------------------------- the ledger


@dataclass(frozen=True)
class StackFile:
    """What `linkback dev` says about itself in `<data-dir>/stack.json`."""

    base_url: str
    table: str
    dynamodb_url: str
    sqs_url: str
    verify_queue: str
    dead_letter_queue: str

    @classmethod
    def read(cls, data_dir: Path) -> StackFile:
        document = json.loads((data_dir / "stack.json").read_text(encoding="utf-8"))
        return cls(
            base_url=document["base_url"],
            table=document["table"],
            dynamodb_url=document["endpoints"]["dynamodb"],
            sqs_url=document["endpoints"]["sqs"],
            verify_queue=document["queues"]["VerifyQueue"],
            dead_letter_queue=document["queues"]["VerifyDeadLetterQueue"],
        )

    def _client(self, service: str, endpoint_url: str) -> Any:
        # The local services' dummy credentials: nothing here may ever reach AWS itself.
        return boto3.client(
            service,
            endpoint_url=endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def records(self) -> list[dict[str, Any]]:
        """Every mention record (the table also holds rate-limit counters and markers: they have no source)."""
        dynamodb = self._client("dynamodb", self.dynamodb_url)
        found: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression="pk, #s, attempts, #src, target, status_reason",
            FilterExpression="attribute_exists(#src)",
            ExpressionAttributeNames={"#s": "status", "#src": "source"},
        ):
            for item in page["Items"]:
                found.append(
                    {
                        "id": item["pk"]["S"],
                        "status": item["status"]["S"],
                        "attempts": int(item.get("attempts", {}).get("N", "0")),
                        "source": item["source"]["S"],
                        "target": item["target"]["S"],
                        "reason": item.get("status_reason", {}).get("S", ""),
                    }
                )
        return found

    def dead_letter_ids(self) -> list[str]:
        """The mention ids the dead-letter queue's messages name (received with a short visibility
        timeout, as `linkback dlq list` does: they are back in the queue seconds later)."""
        from linkback_infra.dlq import list_dead_letters

        letters = list_dead_letters(self._client("sqs", self.sqs_url), self.dead_letter_queue)
        return [letter.mention_id or "(unreadable)" for letter in letters]

    def depth(self, queue_url: str) -> int:
        """Messages in a queue: waiting, being handled, or delayed."""
        attributes = self._client("sqs", self.sqs_url).get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


def expected_id(blog: SourceBlog, mention: Mention) -> str:
    """The record id the stack must give this mention (one per normalised source and target)."""
    return mention_id(normalise_url(blog.url(mention)), normalise_url(mention.target))


@dataclass
class Ledger:
    answers: list[Answer] = field(repr=False)
    expected: dict[str, Mention] = field(repr=False)  # record id → the mention some sender was told was accepted
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    verify_depth: int = 0
    dead_letters: int = 0
    dead_letter_ids: list[str] = field(default_factory=list)  # the mentions their messages name
    settled_after_s: float | None = None  # since the first send; None: the wait ended with mentions still queued
    sending_s: float = 0.0
    source_fetches: int = 0  # requests the source blog answered
    source_unavailable: int = 0  # of which 503s from flaky sources

    @property
    def by_id(self) -> dict[str, dict[str, Any]]:
        return {record["id"]: record for record in self.records}

    @property
    def missing(self) -> set[str]:
        return set(self.expected) - set(self.by_id)

    @property
    def unexpected(self) -> set[str]:
        return set(self.by_id) - set(self.expected)

    @property
    def doubled(self) -> int:
        """Records beyond the first for one planned mention: stored twice, under two ids, had one protocol's
        front normalised the URLs differently from another's (the id is a hash of the normalised pair)."""
        pairs = Counter(
            (urlsplit(record["source"]).path.rstrip("/"), record["target"].rstrip("/").lower())
            for record in self.records
        )
        return sum(count - 1 for count in pairs.values())

    @property
    def flaky(self) -> list[dict[str, Any]]:
        return [
            record for record in self.records if record["id"] in self.expected and self.expected[record["id"]].flaky
        ]

    @property
    def statuses(self) -> Counter[str]:
        return Counter(record["status"] for record in self.records)

    @property
    def unsettled(self) -> list[dict[str, Any]]:
        return [record for record in self.records if record["status"] not in FINAL]

    @property
    def balanced(self) -> bool:
        """Every accepted mention stored exactly once, nothing else stored, and nothing left waiting."""
        return (
            len(self.records) == len(self.expected)
            and not self.missing
            and not self.unexpected
            and not self.doubled
            and not self.unsettled
        )

    def outcomes(self) -> Counter[str]:
        return Counter(answer.outcome for answer in self.answers)

    def refusals(self) -> Counter[str]:
        return Counter(f"{a.protocol} {a.reason}" for a in self.answers if a.outcome == "refused")

    def server_errors(self) -> list[Answer]:
        """Answers that blamed the receiver: HTTP 5xx, or the Pingback faults for "our fault" (0, 50)
        and TrackBack errors that ask to try again later (both protocols answer 200 whatever happened)."""
        return [
            a
            for a in self.answers
            if a.http_status >= 500
            or a.reason.startswith(("fault 0:", "fault 50:"))
            or (a.protocol == "trackback" and "try again later" in a.reason)
        ]


def ledger_of(answers: list[Answer], blog: SourceBlog) -> Ledger:
    expected = {expected_id(blog, a.mention): a.mention for a in answers if a.outcome != "refused"}
    return Ledger(answers=answers, expected=expected)


def settle(stack: StackFile, ledger: Ledger, *, timeout_s: float, started: float, poll_s: float = 0.5) -> Ledger:
    """Read the table and the queues until every expected mention is final and the verify queue is
    empty (re-sends queue re-verifications of mentions that are final already), or until `timeout_s`.
    An empty queue with mentions still queued for three reads in a row ends the wait early: nothing
    is left that could verify them (their messages are in the dead-letter queue, or were lost)."""
    deadline = time.monotonic() + timeout_s
    stalled = 0
    while True:
        ledger.records = stack.records()
        ledger.verify_depth = stack.depth(stack.verify_queue)
        waiting = ledger.missing or ledger.unsettled
        if not waiting and ledger.verify_depth == 0:
            ledger.settled_after_s = time.monotonic() - started
            break
        stalled = stalled + 1 if ledger.verify_depth == 0 else 0
        if stalled >= 3 or time.monotonic() > deadline:
            break
        time.sleep(poll_s)
    ledger.dead_letters = stack.depth(stack.dead_letter_queue)
    if ledger.dead_letters:
        ledger.dead_letter_ids = stack.dead_letter_ids()
    return ledger


# --------------------------------------------------------------------------- a `linkback dev` of its own


@dataclass
class DevProcess:
    process: subprocess.Popen[str]
    data_dir: Path
    output: Path
    stack: StackFile

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_dev(data_dir: Path, *arguments: str, sites: str = "https://example.com") -> DevProcess:
    """`linkback dev` in a process of its own (the senders must not share its interpreter), on a free
    port, with sources on loopback allowed; returns once it says it is ready."""
    data_dir.mkdir(parents=True, exist_ok=True)
    output = data_dir / "dev.out"
    with output.open("w") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "linkback_infra.cli",
                "dev",
                "--port",
                "0",
                "--data-dir",
                str(data_dir / "stack"),
                "--sites",
                sites,
                "--allow-private-sources",
                "--log-level",
                "ERROR",
                *arguments,
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if READY.search(output.read_text()):
            return DevProcess(process, data_dir, output, StackFile.read(data_dir / "stack"))
        if process.poll() is not None:
            raise RuntimeError(f"linkback dev exited early:\n{output.read_text()[-3000:]}")
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"linkback dev did not get ready in {START_TIMEOUT_S} s:\n{output.read_text()[-3000:]}")


def run(base_url: str, stack: StackFile, the_plan: Plan, *, senders: int, settle_s: float) -> Ledger:
    """Serve the plan's pages, send every ping from `senders` threads, wait for the stack to settle."""
    blog = SourceBlog(the_plan.mentions)
    try:
        started = time.monotonic()
        answers = send_all(base_url, blog, the_plan, senders)
        ledger = ledger_of(answers, blog)
        ledger.sending_s = time.monotonic() - started
        settle(stack, ledger, timeout_s=settle_s, started=started)
        ledger.source_fetches, ledger.source_unavailable = blog.fetches, blog.unavailable
    finally:
        blog.stop()
    return ledger
