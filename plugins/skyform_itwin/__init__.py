"""skyform's built-in ``itwin`` provider: Bentley iTwin Reality Modeling (ContextCapture v1)."""
