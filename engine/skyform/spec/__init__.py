"""The mission as written: YAML loaded with locations, the envelope, values, expressions, secrets.

Start at :mod:`.mission` (``load`` → :class:`~.mission.Mission`); :mod:`.yamlsource` keeps
every value's file, line and column, :mod:`.expressions` is the ``${{ ... }}`` language,
:mod:`.values` the Unknown and Secret markers, :mod:`.secrets` where secrets come from.
"""
