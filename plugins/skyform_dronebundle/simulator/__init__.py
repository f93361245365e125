"""A local simulator of the documented DroneBundle API (projects, jobs, keys, rate limit)."""
