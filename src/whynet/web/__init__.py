"""The browser lab: ``whynet serve`` trains a network live and shows what happens inside it.

:mod:`~whynet.web.server` (FastAPI app and :func:`~whynet.web.server.serve`),
:mod:`~whynet.web.session` (one tab's data, network, trainer and probe),
:mod:`~whynet.web.schema` (what a request may contain, and the limits),
:mod:`~whynet.web.presets` (one-click experiments), ``static/`` (the page, plain HTML/CSS/JS,
with its chart library vendored in ``static/vendor/``). Needs the ``web`` extra
(``pip install whynet[web]``).
"""
