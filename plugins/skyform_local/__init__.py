"""The ``local`` provider: files on disk (image sets with checksums) as mission resources."""
