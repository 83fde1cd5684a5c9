"""What a page must carry to receive mentions through linkback, as text to paste. No I/O.

- Webmention (W3C, §3.1.2): `<link rel="webmention" href>` in the head (or a Link header).
- Pingback 1.0: the spec lets clients find the endpoint with exactly this regular expression,
  `<link rel="pingback" href="([^"]+)" ?/?>`, so the element is written in that one form: `rel` first,
  double quotes, a single space, no other attribute.
- TrackBack 1.2: an RDF block, inside an HTML comment so that validators and browsers ignore it, whose
  `rdf:Description` names the post (`rdf:about`, `dc:identifier`) and its ping URL (`trackback:ping`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlsplit

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
TRACKBACK = "http://madskills.com/public/xml/rss/module/trackback/"


class SnippetError(ValueError):
    pass


def _absolute_http(url: str, what: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SnippetError(f"{what} must be an absolute http(s) URL, not {url!r}")
    return url.strip()


@dataclass(frozen=True)
class Endpoints:
    """The API's receiving URLs for one page."""

    api: str  # the API base, without a trailing slash
    page: str

    @classmethod
    def of(cls, api: str, page: str) -> Endpoints:
        return cls(_absolute_http(api, "--api").rstrip("/"), _absolute_http(page, "--page"))

    @property
    def webmention(self) -> str:
        return f"{self.api}/webmention"

    @property
    def pingback(self) -> str:
        return f"{self.api}/pingback"

    @property
    def trackback(self) -> str:
        target = quote(self.page, safe="")
        if "--" in target:
            # `--` cannot sit in the HTML comment around the RDF; `%2D` is the same `-` to the receiver,
            # and unlike `&#45;` it also survives TrackBack clients that read the block with a regex.
            target = target.replace("-", "%2D")
        return f"{self.api}/trackback?target={target}"

    def widget(self, version: str | None) -> str:
        return f"{self.api}/widget.js" + (f"?v={version}" if version else "")


def _attribute(value: str) -> str:
    return escape(value, quote=True)


def _in_comment(value: str) -> str:
    """An XML attribute value that can sit inside an HTML comment: `--` may not occur there (HTML and
    XML both forbid it), and `&#45;` is the same character to the XML parser that reads the RDF."""
    return _attribute(value).replace("--", "-&#45;")


def head_links(endpoints: Endpoints) -> str:
    return (
        f'<link rel="webmention" href="{_attribute(endpoints.webmention)}">\n'
        f'<link rel="pingback" href="{_attribute(endpoints.pingback)}">'
    )


def trackback_rdf(endpoints: Endpoints, title: str | None = None) -> str:
    page = _in_comment(endpoints.page)
    title_attribute = f' dc:title="{_in_comment(title)}"' if title else ""
    return (
        "<!--\n"
        f'<rdf:RDF xmlns:rdf="{RDF}"\n'
        f'         xmlns:dc="{DC}"\n'
        f'         xmlns:trackback="{TRACKBACK}">\n'
        f'<rdf:Description rdf:about="{page}" dc:identifier="{page}"{title_attribute}\n'
        f'    trackback:ping="{_in_comment(endpoints.trackback)}" />\n'
        "</rdf:RDF>\n"
        "-->"
    )


def widget_tags(endpoints: Endpoints, version: str | None) -> str:
    return (
        f'<div data-linkback data-page="{_attribute(endpoints.page)}"></div>\n'
        f'<script src="{_attribute(endpoints.widget(version))}" defer></script>'
    )


def snippet(api: str, page: str, *, title: str | None = None, version: str | None = None) -> str:
    """The whole text `linkback snippet` prints."""
    endpoints = Endpoints.of(api, page)
    return "\n".join(
        [
            "<!-- linkback: in the <head> of every page -->",
            head_links(endpoints),
            "",
            "<!-- linkback: in each post, for TrackBack autodiscovery -->",
            trackback_rdf(endpoints, title),
            "",
            "<!-- linkback: where the mentions should appear -->",
            widget_tags(endpoints, version),
            "",
        ]
    )
