"""The sandbox simulator of the Satellogic Tasking API."""
