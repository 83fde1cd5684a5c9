"""A mention's fields, listed once: how long each may be, who may set it, whether the public read shows it,
and where it appears in the documents linkback writes. The stored record (`store.schema.MentionRecord`),
the verifier's `Verdict`, the public jf2 feed, the admin API's document, the owner's export and import all
take their fields from this table, so a new field is a line here (plus the attribute that stores it and
the value type that carries it, which tests/unit/test_fields.py holds to the table).

No imports beyond the standard library: every handler loads it at cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

# Who may set a field: the ping's sender (what a TrackBack claims, the sender's address), the verifier from
# the source page ("page": what is shown of it) or from its own bookkeeping, the owner, or linkback itself.
SetBy = Literal["sender", "page", "verifier", "owner", "system"]

URL_MAX = 2048  # urls.MAX_URL_LENGTH: a URL field is bounded by what normalise_url accepts
TITLE_MAX = 250
EXCERPT_MAX = 500  # TrackBack: "the server may crop the excerpt"; MT crops at 255, we keep a little more
AUTHOR_NAME_MAX = 250
BLOG_NAME_MAX = 250
PUBLISHED_MAX = 64
USER_AGENT_MAX = 300
SPAM_REASONS_MAX = 20  # reasons kept (each a sentence); the rules write a handful


class Field(NamedTuple):
    name: str  # the stored attribute, and the field of a Verdict or an imported mention
    limit: int | None  # characters kept (clean_text crops to it); None: not free text
    set_by: SetBy
    public: bool  # read by the public function (jf2 feed, counts, widget); nothing else reaches it
    jf2: str | None = None  # its place in a jf2 entry ("author.name"); in the public feed when public
    admin: str | None = None  # its place in the admin API's mention document
    moves: bool = False  # carried by `linkback export --format jf2` and read back by `linkback import jf2`
    shown_instead: str | None = None  # what the owner is shown while this is empty (a TrackBack's claim)
    jf2_empty: Any = None  # what a jf2 entry says while it is empty ("" where webmention.io does)


# One line a field: name, limit, set by, public, place in jf2, place in the admin document, then flags.
# fmt: off
MENTION_FIELDS: tuple[Field, ...] = (
    Field("pk",             None,             "system",   True,  "wm-id",       "id"),
    Field("protocol",       None,             "sender",   True,  "wm-protocol", "protocol"),
    Field("source",         URL_MAX,          "sender",   True,  "wm-source",   "source"),
    Field("target",         URL_MAX,          "sender",   True,  "wm-target",   "target"),
    Field("site",           None,             "system",   False, "linkback.site", "site", moves=True),
    Field("status",         None,             "system",   True,  "linkback.status", "status", moves=True),
    Field("status_reason",  None,             "system",   False, "linkback.status_reason", "status_reason", moves=True),
    Field("received_at",    None,             "system",   True,  "wm-received", "received_at"),
    Field("updated_at",     None,             "system",   True,  "linkback.updated_at", "updated_at", moves=True),
    Field("verified_at",    None,             "system",   False, "linkback.verified_at", "verified_at", moves=True),
    Field("sender_ip",      None,             "sender",   False, None,          "sender_ip"),
    Field("user_agent",     USER_AGENT_MAX,   "sender",   False, None,          "user_agent"),
    Field("sent_title",     TITLE_MAX,        "sender",   False),
    Field("sent_excerpt",   EXCERPT_MAX,      "sender",   False),
    Field("sent_blog_name", BLOG_NAME_MAX,    "sender",   False),
    Field("title",          TITLE_MAX,        "page",     True,  "name",        "title", True, "sent_title", ""),
    Field("excerpt",        EXCERPT_MAX,      "page",     True,  "content.text", "excerpt", True, "sent_excerpt", ""),
    Field("author_name",    AUTHOR_NAME_MAX,  "page",     True,  "author.name", "author.name", True, "sent_blog_name",
          ""),
    Field("author_url",     URL_MAX,          "page",     True,  "author.url",  "author.url", True, None, ""),
    Field("author_photo",   URL_MAX,          "page",     True,  "author.photo", "author.photo", True, None, ""),
    Field("wm_property",    None,             "page",     True,  "wm-property", "wm_property", moves=True),
    Field("rsvp",           None,             "page",     True,  "rsvp",        "rsvp", moves=True),
    Field("published",      PUBLISHED_MAX,    "page",     True,  "published",   "published", moves=True),
    Field("entry_url",      URL_MAX,          "page",     True,  "url",         "entry_url", moves=True),
    Field("deleted_by",     None,             "verifier", False, "linkback.deleted_by", "deleted_by", moves=True),
    Field("spam_score",     None,             "verifier", False, "linkback.spam_score", "spam_score", moves=True),
    Field("spam_reasons",   SPAM_REASONS_MAX, "verifier", False, "linkback.spam_reasons", "spam_reasons", moves=True),
    Field("fetch_status",   None,             "verifier", False),
    Field("fetched_url",    URL_MAX,          "verifier", False),
)
# fmt: on
BY_NAME: Mapping[str, Field] = {field.name: field for field in MENTION_FIELDS}

# What the public function reads (a ProjectionExpression): sender addresses, spam reasons and the audit
# trail never reach it, and unread lists cost nothing to decode.
PUBLIC_ATTRIBUTES: tuple[str, ...] = tuple(field.name for field in MENTION_FIELDS if field.public)
# What a verdict writes besides its status and reason: what the page showed and the verifier's bookkeeping.
VERDICT_FIELDS: tuple[Field, ...] = tuple(field for field in MENTION_FIELDS if field.set_by in ("page", "verifier"))
# What the public feed says of a mention; the owner's export adds the `linkback.*` ones.
FEED_FIELDS: tuple[Field, ...] = tuple(f for f in MENTION_FIELDS if f.jf2 and not f.jf2.startswith("linkback."))
OWNER_FIELDS: tuple[Field, ...] = tuple(f for f in MENTION_FIELDS if f.jf2 and f.jf2.startswith("linkback."))
# What an import brings from the system it came from (the rest linkback sets itself).
IMPORTED_FIELDS: tuple[Field, ...] = tuple(f for f in MENTION_FIELDS if f.moves and f.set_by in ("page", "verifier"))


def limit(name: str) -> int:
    """The characters kept of a text field."""
    kept = BY_NAME[name].limit
    if kept is None:
        raise KeyError(f"{name} is not a text field with a limit")
    return kept


def get_path(document: Mapping[str, Any], path: str) -> Any:
    """`document["author"]["name"]` for "author.name"; None where the path is missing."""
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def put_path(document: dict[str, Any], path: str, value: Any) -> None:
    """Set "author.name" in `document`, making the inner objects on the way."""
    *parents, last = path.split(".")
    for key in parents:
        document = document.setdefault(key, {})
    document[last] = value
