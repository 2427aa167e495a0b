"""Find what a built HTML page or stylesheet would fetch from the network.

Used by book/build.py (every page of the book) and book/slides.py (every deck). Plain
``<a href>`` links to papers or libraries are fine: the reader follows them or not. What
counts is what the browser loads on its own: scripts, stylesheets, fonts, images, frames,
ES-module imports and AMD ``require`` calls.
"""

from __future__ import annotations

import re

# A tag attribute that makes the browser fetch something (not plain <a href> links).
_FETCH_ATTR = re.compile(
    r"<(script|img|iframe|source|audio|video|embed|track|input)\b[^>]*?\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)"
    r"|<link\b[^>]*?\bhref\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)"
    r"|<object\b[^>]*?\bdata\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)
_CSS_REMOTE = re.compile(
    r"(?:@import\s+(?:url\()?|url\()\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.IGNORECASE
)
_CDN_WORDS = re.compile(r"cdn\.|cdnjs|unpkg\.com|jsdelivr|googleapis|gstatic", re.IGNORECASE)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_SCRIPT_TYPE = re.compile(r"\btype\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
# A quoted absolute or protocol-relative URL inside JavaScript: an import, a require
# list, a src assigned to a new element ...
_JS_URL = re.compile(r"[\"'`]((?:https?:)?//[^\"'`\s]+)[\"'`]", re.IGNORECASE)
# Script types that hold code (the others hold data, e.g. saved widget state as JSON).
_CODE_TYPES = {"", "text/javascript", "application/javascript", "module", "text/x-mathjax-config"}


def css_problems(text: str) -> list[str]:
    """Remote URLs that a stylesheet imports or loads (fonts, images)."""
    return [f"loads {url}" for url in _CSS_REMOTE.findall(text)]


def page_problems(text: str) -> list[str]:
    """Everything an HTML page would fetch from another host, one line each."""
    problems = []
    for match in _FETCH_ATTR.finditer(text):
        url = next(g for g in match.groups()[1:] if g)
        problems.append(f"loads {url}")
    for tag in re.findall(r"<(?:script|link|style)\b[^>]*>", text, re.IGNORECASE):
        if _CDN_WORDS.search(tag):
            problems.append(f"CDN in tag {tag[:120]}")
    for attributes, body in _SCRIPT.findall(text):
        kind = _SCRIPT_TYPE.search(attributes)
        if (kind.group(1).lower() if kind else "") not in _CODE_TYPES:
            continue
        # Inline scripts that name a CDN would fetch from it (e.g. sphinx-thebe's loader).
        problems += [f"inline script mentions {w}" for w in {m.group(0) for m in _CDN_WORDS.finditer(body)}]
        problems += [f"inline script names {url}" for url in _JS_URL.findall(body)]
    for block in _STYLE.findall(text):
        problems += [f"inline style {p}" for p in css_problems(block)]
    return problems
