r"""Keep the seeds' equation numbers, written ``\tag{n}``, working in multi-line equations.

The notebooks number display equations as the seeds do, with ``$$ ... \tag{7} $$``.
MathJax shows that as "(7)". Sphinx, however, wraps a display equation whose text holds a
line break ``\\`` in ``\begin{split} ... \end{split}``, and MathJax refuses a ``\tag``
inside ``split`` (it prints a red "\tag not allowed in split environment" instead of the
equation). This extension moves the tag outside the ``split`` for such equations, which is
where amsmath wants it, and leaves every other equation to Sphinx.

A top-level amsmath environment (``\begin{align} ... \end{align}``) gets a Sphinx number
of its own, "(1)", printed next to the lines' tags; where the environment holds a
``\tag``, that extra number is dropped.

An equation with a tag *and* several blank-line-separated parts cannot be numbered once;
the build warns about it (and fails, as warnings are errors). So it does for a page that
mixes tags with Sphinx's automatic numbers (a labelled ``$$ ... $$ (label)`` or an
untagged ``\begin{align}``), which count (1), (2), ... and would clash with the seeds'.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

TAG = re.compile(r"\\tag\*?\{[^{}]*\}")


def move_tags_out_of_split(app, doctree, docname) -> None:
    if app.builder.format != "html":
        return
    opening, closing = app.config.mathjax_display
    blocks = list(doctree.findall(nodes.math_block))
    if any(TAG.search(node.astext()) for node in blocks):
        for node in blocks:
            if node.get("number") and not TAG.search(node.astext()):
                logger.warning(
                    "this page numbers equations with \\tag{n}; an automatically numbered "
                    "equation here would clash with them: give it a \\tag or drop its label",
                    location=node,
                )
    for node in blocks:
        text = node.astext()
        tags = TAG.findall(text)
        if not tags:
            continue
        if "amsmath" in node.get("classes", []):
            node["number"] = None  # the environment's own \tag lines carry the numbers
            continue
        if node.get("nowrap") or node.get("number"):
            continue  # raw and labelled equations are left as they are
        parts = [part for part in text.split("\n\n") if part.strip()]
        if len(parts) > 1 or len(tags) > 1:
            logger.warning(
                "equation with \\tag has %d parts and %d tags; write one tag per "
                "equation, without blank lines inside it", len(parts), len(tags),
                location=node,
            )
            continue
        if r"\\" not in text:
            continue  # Sphinx adds no split: MathJax handles the tag already
        body = TAG.sub("", text).strip()
        node["nowrap"] = True
        node[:] = [nodes.Text(
            f"{opening}\\begin{{split}}{body}\\end{{split}}{tags[0]}{closing}"
        )]


def setup(app):
    app.connect("doctree-resolved", move_tags_out_of_split)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
