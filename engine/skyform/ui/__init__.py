"""``skyform ui``: a read-only web page for missions, plans and runs, served on loopback.

Begin with :mod:`.site` (which missions the page shows, where their state and saved plans
are), then :mod:`.views` (each page's data, every value through the CLI's display and
redaction rule), :mod:`.pages` (the HTML), :mod:`.live` (server-sent events from the
state's history, resumable by id) and :mod:`.server` (the WSGI app: routes, the token,
the CSRF check). The scripts and styles in ``static/`` ship as package data: no page
loads anything from another host.
"""
