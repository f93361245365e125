"""The ``dronebundle`` provider: drone-operations projects and jobs on DroneBundle.

DroneBundle jobs are scheduling records (one-time or recurring inspections, surveys,
thermal scans) inside projects; the API has create, get and update but no documented list
or delete for jobs, which shapes how this provider adopts and deletes (see
``docs/providers/dronebundle.md``).
"""
