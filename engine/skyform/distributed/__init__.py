"""Provider calls on Celery workers: the ``celery`` executor and ``skyform worker``.

The coordinator (``skyform apply --executor celery``) keeps the DAG, the journal and every
state write; workers run the operations (create, update, delete: uploads and downloads)
and send back small results. Start at :mod:`.app` (the Celery app and its safe settings),
then :mod:`.plugin` (how the executor is registered, without importing Celery).
"""
