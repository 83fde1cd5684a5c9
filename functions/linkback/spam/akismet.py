"""Akismet, when the owner has a key: one more spam signal about a mention, and the owner's decisions reported back.

The protocol (Akismet REST API 1.1): a form-encoded POST to `<endpoint>/1.1/<method>` carrying `api_key` and
`blog`. `comment-check` answers `true` (spam) or `false`; `X-akismet-pro-tip: discard` marks spam so blatant
it need not be kept. `submit-spam` and `submit-ham` answer "Thanks for making the web a better place.";
`verify-key` answers `valid` or `invalid`. A bad key or a missing required field is answered `invalid` with the
cause in `X-akismet-debug-help`.

Akismet is advice, never a gate: every failure (network, timeout, 5xx, a refused key, an answer we do not
understand) becomes `AkismetUnavailable`, which the verifier records and then scores the mention without it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # requests costs ~100 ms of import at cold start; only a configured key needs it
    import requests

DEFAULT_ENDPOINT = "https://rest.akismet.com"
API_VERSION = "1.1"
DEFAULT_USER_AGENT = "linkback/0.1 | Akismet client"  # Akismet asks for "Application/Version | Plugin/Version"
SUBMITTED = "Thanks for making the web a better place."
# Every answer is a word or a sentence; anything longer is not Akismet speaking.
MAX_ANSWER_BYTES = 4096

SPAM_SCORE = 6.0
DISCARD_SCORE = 10.0  # Akismet's "blatant spam": more certain than a plain `true`
HAM_SCORE = -1.0  # a mild vote only: Akismet misses spam aimed at one small site


@dataclass(frozen=True)
class AkismetQuery:
    """What we know about a mention, in Akismet's field names.

    `comment_type` is the protocol: `trackback` and `pingback` are Akismet's own types, `webmention` a free
    one (Akismet accepts any). The sender's IP and User-Agent are those of the ping request, not of the
    source page, as Akismet's WordPress plugin sends for pingbacks.
    """

    blog: str
    user_ip: str
    user_agent: str
    permalink: str  # the target: the post that was mentioned
    comment_type: str
    comment_author: str
    comment_author_url: str  # the source page
    comment_content: str
    comment_date_gmt: str | None = None  # ISO 8601, when the mention was received
    referrer: str = ""
    is_test: bool = False
    blog_lang: str = ""  # e.g. "en, fr_ca"

    def form(self) -> dict[str, str]:
        """The form fields Akismet documents, without the empty ones (Akismet treats absent and empty alike)."""
        fields = {
            "blog": self.blog,
            "user_ip": self.user_ip,
            "user_agent": self.user_agent,
            "referrer": self.referrer,
            "permalink": self.permalink,
            "comment_type": self.comment_type,
            "comment_author": self.comment_author,
            "comment_author_url": self.comment_author_url,
            "comment_content": self.comment_content,
            "comment_date_gmt": self.comment_date_gmt or "",
            "blog_lang": self.blog_lang,
            # requests encodes the form as UTF-8; saying so keeps Akismet from guessing.
            "blog_charset": "UTF-8",
            "is_test": "1" if self.is_test else "",
        }
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class AkismetVerdict:
    spam: bool
    discard: bool  # X-akismet-pro-tip: discard
    debug_help: str = ""


class AkismetUnavailable(Exception):
    """Akismet could not give an answer: network error, timeout, 5xx, a refused key or an unexpected body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Answer:
    status: int
    body: str
    headers: dict[str, str]  # lower-cased names

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


class AkismetClient:
    """One API key, one endpoint; one connection reused across a verifier batch.

    A call never takes much longer than `timeout_s` (connect and read share it, the body is read against the
    same deadline) and is never retried: a slow Akismet must not hold a mention's verification hostage.
    """

    def __init__(
        self,
        api_key: str,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_s: float = 3.0,
        user_agent: str = DEFAULT_USER_AGENT,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an Akismet API key is required")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.api_key = api_key
        self.endpoint = endpoint.rstrip("/")
        self.timeout_s = timeout_s
        self.user_agent = user_agent
        self._session = session
        self._owns_session = session is None

    def comment_check(self, query: AkismetQuery) -> AkismetVerdict:
        answer = self._post("comment-check", query.form())
        debug_help = answer.header("X-akismet-debug-help")
        if answer.body == "true":
            discard = answer.header("X-akismet-pro-tip").strip().lower() == "discard"
            return AkismetVerdict(spam=True, discard=discard, debug_help=debug_help)
        if answer.body == "false":
            return AkismetVerdict(spam=False, discard=False, debug_help=debug_help)
        raise _unexpected(answer)

    def submit_spam(self, query: AkismetQuery) -> None:
        """The owner marked a mention spam that Akismet let through (or confirms one it caught)."""
        self._submit("submit-spam", query)

    def submit_ham(self, query: AkismetQuery) -> None:
        """The owner approved a mention Akismet called spam."""
        self._submit("submit-ham", query)

    def verify_key(self, blog: str) -> bool:
        """Whether Akismet accepts this key for this site; AkismetUnavailable when it cannot say."""
        answer = self._post("verify-key", {"blog": blog})
        if answer.body == "valid":
            return True
        if answer.body == "invalid":
            return False
        raise _unexpected(answer)

    def close(self) -> None:
        """Closes the connection pool this client opened (a session passed in stays its owner's)."""
        if self._session is not None and self._owns_session:
            self._session.close()
            self._session = None

    def _submit(self, method: str, query: AkismetQuery) -> None:
        answer = self._post(method, query.form())
        if answer.body != SUBMITTED:
            raise _unexpected(answer)

    def _post(self, method: str, form: dict[str, str]) -> _Answer:
        import requests
        import urllib3

        deadline = time.monotonic() + self.timeout_s
        url = f"{self.endpoint}/{API_VERSION}/{method}"
        try:
            response = self._open_session().post(
                url,
                data={"api_key": self.api_key, **form},
                headers={"User-Agent": self.user_agent, "Accept": "text/plain"},
                # total: connect and every read share one budget (a plain number would allow one each).
                # requests takes a urllib3 Timeout as it is (HTTPAdapter.send); its stubs list only numbers.
                timeout=urllib3.Timeout(total=self.timeout_s),  # type: ignore[arg-type]
                allow_redirects=False,
                stream=True,
            )
            with response:
                payload = self._read(response, deadline)
        except requests.exceptions.Timeout as error:
            raise AkismetUnavailable(f"no answer within {self.timeout_s:g} s") from error
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            # Bounded: the reason is stored with the mention, and urllib3's messages run long.
            raise AkismetUnavailable(f"{type(error).__name__}: {error}"[:200]) from error
        answer = _Answer(
            status=response.status_code,
            body=payload.decode("utf-8", errors="replace").strip(),
            headers={name.lower(): value for name, value in response.headers.items()},
        )
        if answer.status != 200:
            raise AkismetUnavailable(f"HTTP {answer.status}")
        return answer

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        # One byte at a time: a larger read blocks until it is full, and the deadline is only checked between
        # reads. Answers are a word or a sentence, so this costs nothing.
        for chunk in response.iter_content(chunk_size=1):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise AkismetUnavailable(f"answer longer than {MAX_ANSWER_BYTES} bytes")
            # A server trickling bytes resets each read's timeout; the deadline does not reset.
            if time.monotonic() > deadline:
                raise AkismetUnavailable(f"no answer within {self.timeout_s:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _open_session(self) -> requests.Session:
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            # No retries: a retry after a timeout would double the stall (urllib3 retries none by default;
            # this says so where a reader looks).
            session.mount("https://", HTTPAdapter(max_retries=0))
            session.mount("http://", HTTPAdapter(max_retries=0))
            self._session = session
        return self._session


def _unexpected(answer: _Answer) -> AkismetUnavailable:
    if answer.body == "invalid":
        why = answer.header("X-akismet-debug-help") or "no X-akismet-debug-help"
        return AkismetUnavailable(f"request refused as invalid ({why})")
    return AkismetUnavailable(f"unexpected answer {answer.body[:80]!r}")


def ask_akismet(client: AkismetClient, query: AkismetQuery) -> tuple[AkismetVerdict | None, str | None]:
    """comment-check that cannot fail: (verdict, None), or (None, why Akismet gave no answer)."""
    try:
        return client.comment_check(query), None
    except AkismetUnavailable as error:
        return None, error.reason


def akismet_finding(verdict: AkismetVerdict | None, error: str | None) -> tuple[float, str]:
    """The score and the reason the spam module records for Akismet's answer (or its silence)."""
    if verdict is not None:
        if verdict.spam and verdict.discard:
            return DISCARD_SCORE, "Akismet says blatant spam"
        if verdict.spam:
            return SPAM_SCORE, "Akismet says spam"
        return HAM_SCORE, "Akismet says not spam"
    if error is not None:
        return 0.0, f"Akismet unavailable: {error}"
    raise ValueError("akismet_finding needs a verdict or an error")
