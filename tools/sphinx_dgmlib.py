"""Sphinx extension for the API reference (book/api.md).

Napoleon reads the first line of an attribute's docstring as "type: description", so a constant
documented as ``#: Digits: a pixel is 1 when ...`` would get the type "Digits". Attribute and
constant docstrings are plain text here: this extension keeps them as written, before napoleon
rewrites them, and puts them back after.
"""
_kept: dict[str, list[str]] = {}


def _keep(app, what, name, obj, options, lines):
    if what in ("data", "attribute", "property"):
        _kept[name] = list(lines)


def _restore(app, what, name, obj, options, lines):
    if what in ("data", "attribute", "property") and name in _kept:
        lines[:] = _kept.pop(name)


def setup(app):
    app.connect("autodoc-process-docstring", _keep, priority=100)
    app.connect("autodoc-process-docstring", _restore, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
