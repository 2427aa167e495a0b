"""Tell the reader of a page with saved widgets that the controls are not live there.

The book draws the notebooks' widgets from the state saved when the notebook was run
(@jupyter-widgets/html-manager). A slider can be dragged, but nothing recomputes: no
Python runs behind a static page. This extension puts a short note under the title of
every page whose notebook saved widget state, saying how to run the widgets live.
"""

from __future__ import annotations

from docutils import nodes

TITLE = "Widgets on this page are snapshots"
TEXT = (
    "The controls on this page show the values saved when the notebook was last run. "
    "You can move them here, but nothing is recomputed: a web page has no Python behind "
    "it. To use them live, run "
)


def _has_widget_state(app, docname: str) -> bool:
    metadata = getattr(app.env, "nb_metadata", {}).get(docname, {})
    return "ipywidgets_state" in metadata.get("js_files", {})


def add_widget_note(app, doctree, docname) -> None:
    if app.builder.format != "html" or not _has_widget_state(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    paragraph = nodes.paragraph()
    paragraph += nodes.Text(TEXT)
    paragraph += nodes.literal(text="make lab")
    paragraph += nodes.Text(" in the repository and open ")
    paragraph += nodes.literal(text=f"{docname}.ipynb")
    paragraph += nodes.Text(" (for a lecture, ")
    paragraph += nodes.literal(text="make explorer")
    paragraph += nodes.Text(" shows chapter 7's explorers as a stand-alone page).")
    note = nodes.admonition("", nodes.title(text=TITLE), paragraph, classes=["note", "widget-note"])
    section.insert(1, note)


def setup(app):
    app.connect("doctree-resolved", add_widget_note)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
