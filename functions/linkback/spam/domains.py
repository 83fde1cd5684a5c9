"""Which site a URL belongs to: the registrable domain one owner holds ("www.blog.example.co.uk" →
"example.co.uk"), for the rules, the lists and the offence counters. No I/O."""

from __future__ import annotations

from linkback.text import LazyPattern as _Lazy

# Two-label suffixes under which anyone registers a name (a small part of the Public Suffix List, ICANN
# section), and hosting platforms that give each customer a subdomain (its private section): two blogs
# on github.io belong to two people, and a link farm spread over blogspot.com is many sites.
_SUFFIXES_LISTED = """
    co.uk org.uk me.uk ac.uk gov.uk ltd.uk plc.uk net.uk sch.uk nhs.uk
    com.au net.au org.au edu.au gov.au id.au asn.au co.nz net.nz org.nz ac.nz govt.nz geek.nz
    co.jp ne.jp or.jp ac.jp go.jp gr.jp ed.jp co.kr or.kr ne.kr ac.kr go.kr
    com.cn net.cn org.cn gov.cn edu.cn ac.cn com.tw net.tw org.tw edu.tw idv.tw com.hk net.hk org.hk edu.hk
    com.sg net.sg org.sg edu.sg com.my net.my org.my co.in net.in org.in firm.in gen.in ind.in ac.in
    co.id or.id web.id ac.id co.th in.th ac.th com.vn net.vn com.ph net.ph org.ph com.pk net.pk org.pk
    co.za org.za net.za ac.za gov.za com.ng org.ng com.eg com.sa com.tr net.tr org.tr gen.tr co.il org.il
    ac.il com.ua net.ua org.ua in.ua kiev.ua com.ru net.ru org.ru spb.ru msk.ru com.pl net.pl org.pl
    com.br net.br org.br blog.br eng.br gov.br com.ar net.ar org.ar gob.ar com.mx net.mx org.mx gob.mx
    com.co net.co org.co com.pe org.pe com.ve com.ec com.uy com.py com.bo co.cr com.gt
    com.es org.es nom.es gob.es co.at or.at ac.at com.pt org.pt com.gr com.cy co.hu
    blogspot.com wordpress.com github.io gitlab.io netlify.app vercel.app pages.dev herokuapp.com
    tumblr.com substack.com neocities.org bearblog.dev micro.blog ghost.io webflow.io wixsite.com
    weebly.com blogger.com livejournal.com typepad.com squarespace.com firebaseapp.com web.app
    surge.sh glitch.me fly.dev onrender.com azurewebsites.net cloudfront.net s3.amazonaws.com
"""
_PUBLIC_SUFFIXES = frozenset(_SUFFIXES_LISTED.split())
_URL_HOST = _Lazy(r"\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//(?:[^@/?#\\]*@)?(\[[^\]/]*\]|[^:/?#\\\s]*)")


def host_of(host_or_url: str) -> str:
    match = _URL_HOST().match(host_or_url)
    if match:
        host = match.group(1)
    else:
        host = host_or_url.strip().split("/", 1)[0].rpartition("@")[2]
        if host.count(":") == 1:  # host:port (an IPv6 literal has more colons)
            host = host.split(":", 1)[0]
    return host.strip("[]").rstrip(".").lower()


def registrable_domain(host_or_url: str) -> str:
    """The name one owner registered: "www.blog.example.co.uk" → "example.co.uk" (an IP stays itself).

    Uses a small built-in list of common two-label public suffixes and blog hosts, not the whole Public
    Suffix List: the rules only need to tell one site from many, and a miss merely splits or joins domains.
    """
    return domain_of_host(host_of(host_or_url))


def domain_of_host(host: str) -> str:
    # rpartition rather than split: a link farm has thousands of distinct hosts, and this runs for each.
    rest, _, top = host.rpartition(".")
    if not rest or ":" in host or top.isdigit():
        return host  # a bare name, an IPv6 literal, or an IPv4 address (a top-level domain is never digits)
    rest, _, second = rest.rpartition(".")
    if not rest:
        return host
    suffix = f"{second}.{top}"
    return f"{rest.rpartition('.')[2]}.{suffix}" if suffix in _PUBLIC_SUFFIXES else suffix


def site_host(host_or_url: str) -> str:
    host = host_of(host_or_url)
    return host[4:] if host.startswith("www.") else host
