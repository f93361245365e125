"""The ``skyform`` command line: one module per command group, one error boundary in main."""
