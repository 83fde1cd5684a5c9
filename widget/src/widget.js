/*
 * linkback widget: renders the TrackBacks, Pingbacks and Webmentions of a page from a
 * webmention.io-compatible jf2 feed. One <script src=".../widget.js" defer> and one
 * <div data-linkback></div>; every option is a data- attribute on that element.
 *
 * Safe by construction: the feed is other people's words, so the DOM is built with
 * createElement/textContent/setAttribute only (never innerHTML), and only http(s) URLs reach
 * href/src. No inline script or style is needed: the stylesheet is a constructable one
 * (adoptedStyleSheets), which a strict Content-Security-Policy allows without 'unsafe-inline'.
 */

/* global __CSS__ */
const CSS = __CSS__; // the minified widget.css, put here by widget/build.mjs

const TEXTS = {
  heading: "{n} mentions",
  headingOne: "1 mention",
  empty: "No mentions yet.",
  error: "The mentions could not be loaded.",
  reactions: "Reactions",
  responses: "Responses",
  like: "liked this",
  repost: "reposted this",
  bookmark: "bookmarked this",
  reply: "replied",
  mention: "mentioned this",
  rsvp: "RSVP",
  send: "Send a Webmention / TrackBack URL",
  sendIntro: "Wrote about this page? Let it know:",
  webmention: "Webmention endpoint",
  trackback: "TrackBack URL",
  pingback: "Pingback endpoint",
};
// Null prototypes: a feed's "constructor" or "__proto__" must look up nothing.
const PROTOCOLS = { __proto__: null, webmention: "Webmention", pingback: "Pingback", trackback: "TrackBack" };
// jf2's wm-property, and the short type names webmention.io uses for them (and data-types takes).
const TYPES = {
  __proto__: null,
  "in-reply-to": "reply",
  "like-of": "like",
  "repost-of": "repost",
  "bookmark-of": "bookmark",
  "mention-of": "mention",
  rsvp: "rsvp",
};
const FACES = ["like", "repost", "bookmark"];
const EXCERPT = 300;
const script = document.currentScript;
let styled = false;

/** The URL as an absolute http(s) URL, or "": javascript:, data: and the like never reach the DOM. */
function safe(url, base) {
  try {
    const parsed = new URL(url, base);
    return /^https?:$/.test(parsed.protocol) ? parsed.href : "";
  } catch {
    return "";
  }
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text) node.textContent = text;
  return node;
}

function host(url) {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

function addStyles() {
  if (styled) return;
  styled = true;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch {
    // Browsers before constructable stylesheets: a <style> element (blocked by a strict CSP there).
    document.head.append(el("style", "", CSS));
  }
}

function config(root) {
  const data = root.dataset;
  const texts = {};
  for (const key in TEXTS) {
    texts[key] = data["text" + key[0].toUpperCase() + key.slice(1)] || TEXTS[key];
  }
  const fromScript = script && script.src ? new URL(".", script.src).href : "";
  const api = safe(data.api || fromScript, location.href).replace(/\/*$/, "/");
  const canonical = document.querySelector('link[rel~="canonical"]');
  const page = safe(data.page || (canonical && canonical.href) || location.href.split("#")[0], location.href);
  const urls = [page];
  for (const extra of (data.urls || "").split(/\s+/)) {
    const url = extra && safe(extra, location.href);
    if (url && !urls.includes(url)) urls.push(url);
  }
  const types = (data.types || "").split(/\s+/).filter((type) => Object.values(TYPES).includes(type));
  const level = Math.min(Math.max(parseInt(data.level, 10) || 2, 1), 5);
  return {
    api,
    page,
    urls,
    types,
    level,
    texts,
    max: Math.max(parseInt(data.max, 10) || 50, 1),
    sortBy: data.sortBy || "published",
    sortDir: data.sortDir === "down" ? "down" : "up",
    rel: data.rel == null ? "ugc nofollow" : data.rel,
    avatars: data.avatars !== "off",
    sendBox: data.send !== "off",
    dates: new Intl.DateTimeFormat(data.lang || document.documentElement.lang || undefined, { dateStyle: "medium" }),
  };
}

/** A link to the verified source (wm-source), or a plain span when the URL is not http(s). */
function sourceLink(entry, cfg, cls, text) {
  const href = safe(entry["wm-source"]);
  const node = el(href ? "a" : "span", cls, text);
  if (href) {
    node.href = href;
    if (cfg.rel) node.rel = cfg.rel;
  }
  return node;
}

function who(entry) {
  const author = entry.author || {};
  return String(author.name || "").trim() || host(entry["wm-source"]) || "?";
}

function avatar(entry, cfg, name) {
  const photo = cfg.avatars && safe((entry.author || {}).photo);
  const initial = el("span", "lb-face", [...name][0]);
  if (!photo) return initial;
  const img = el("img", "lb-face");
  img.src = photo;
  img.alt = "";
  img.loading = "lazy";
  img.decoding = "async";
  img.referrerPolicy = "no-referrer";
  img.width = img.height = 36;
  img.addEventListener("error", () => img.replaceWith(initial), { once: true });
  return img;
}

function face(entry, type, cfg) {
  const name = who(entry);
  const label = name + " " + cfg.texts[type];
  const link = sourceLink(entry, cfg);
  link.title = label;
  link.setAttribute("aria-label", label);
  link.append(avatar(entry, cfg, name));
  const item = el("li", "lb-" + type);
  item.append(link);
  return item;
}

function response(entry, type, cfg) {
  const name = who(entry);
  const item = el("li", "lb-item lb-" + type);
  if (cfg.avatars) item.append(avatar(entry, cfg, name));
  const body = el("div", "lb-body");
  const meta = el("p", "lb-meta");
  const verb = type === "rsvp" && entry.rsvp ? cfg.texts.rsvp + " " + entry.rsvp : cfg.texts[type];
  meta.append(el("span", "lb-author", name), " " + verb + " ");
  const when = new Date(entry.published || entry["wm-received"] || "");
  if (!isNaN(when)) {
    const time = el("time", "", cfg.dates.format(when));
    time.dateTime = when.toISOString();
    meta.append(time, " ");
  }
  meta.append(el("span", "lb-proto", PROTOCOLS[entry["wm-protocol"]] || PROTOCOLS.webmention));
  const title = String(entry.name || "").trim();
  let text = String((entry.content || {}).text || "").trim();
  if (text === title) text = "";
  if (text.length > EXCERPT) text = text.slice(0, EXCERPT - 1).trimEnd() + "…";
  body.append(meta, sourceLink(entry, cfg, "lb-title", title || host(entry["wm-source"]) || entry["wm-source"]));
  if (text) body.append(el("p", "lb-text", text));
  item.append(body);
  return item;
}

function sendBox(cfg) {
  const box = el("details", "lb-send");
  const list = el("dl");
  const ping = {
    webmention: cfg.api + "webmention",
    trackback: cfg.api + "trackback?target=" + encodeURIComponent(cfg.page),
    pingback: cfg.api + "pingback",
  };
  for (const key in ping) {
    const value = el("dd");
    value.append(el("code", "lb-" + key, ping[key]));
    list.append(el("dt", "", cfg.texts[key]), value);
  }
  box.append(el("summary", "", cfg.texts.send), el("p", "", cfg.texts.sendIntro), list);
  return box;
}

function render(root, cfg, entries, failed) {
  const began = performance.now();
  const faces = el("ul", "lb-faces");
  const list = el("ul", "lb-list");
  for (const entry of entries) {
    const type = TYPES[entry["wm-property"]] || "mention";
    if (FACES.includes(type)) faces.append(face(entry, type, cfg));
    else list.append(response(entry, type, cfg));
  }
  const count = entries.length;
  const h = "h" + cfg.level;
  const sub = "h" + (cfg.level + 1);
  const parts = [el(h, "lb-h", count === 1 ? cfg.texts.headingOne : cfg.texts.heading.replace("{n}", count))];
  if (!count) parts.push(el("p", "lb-empty", failed ? cfg.texts.error : cfg.texts.empty));
  if (faces.firstChild) {
    faces.setAttribute("aria-label", cfg.texts.reactions);
    parts.push(el(sub, "lb-sub", cfg.texts.reactions), faces);
  }
  if (list.firstChild) parts.push(el(sub, "lb-sub", cfg.texts.responses), list);
  if (cfg.sendBox && cfg.api && cfg.page) parts.push(sendBox(cfg));
  root.replaceChildren(...parts);
  root.removeAttribute("aria-busy");
  const detail = { count, failed, ms: performance.now() - began };
  root.dispatchEvent(new CustomEvent("linkback:render", { bubbles: true, detail }));
}

function start(root) {
  if (root.classList.contains("linkback")) return; // the script was included twice
  root.classList.add("linkback");
  addStyles();
  const cfg = config(root);
  if (!cfg.api || !cfg.page) return render(root, cfg, [], true);
  const query = new URLSearchParams();
  for (const url of cfg.urls) query.append("target[]", url);
  for (const type of cfg.types) {
    query.append("wm-property[]", Object.keys(TYPES).find((key) => TYPES[key] === type));
  }
  query.set("per-page", cfg.max);
  query.set("sort-by", cfg.sortBy);
  query.set("sort-dir", cfg.sortDir);
  root.setAttribute("aria-busy", "true");
  fetch(cfg.api + "api/mentions.jf2?" + query, { credentials: "omit" })
    .then((answer) => (answer.ok ? answer.json() : Promise.reject(answer.status)))
    .then(
      (feed) => {
        const entries = Array.isArray(feed && feed.children) ? feed.children : [];
        const shown = entries.filter((entry) => entry && (!cfg.types.length || cfg.types.includes(TYPES[entry["wm-property"]])));
        render(root, cfg, shown.slice(0, cfg.max), false);
      },
      () => render(root, cfg, [], true),
    );
}

function startAll() {
  document.querySelectorAll("[data-linkback]").forEach(start);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
else startAll();
