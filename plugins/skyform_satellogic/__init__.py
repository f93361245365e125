"""skyform provider for the Satellogic Tasking API: satellite tasks (POI/AOI), captures, products."""
