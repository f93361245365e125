"""skyform provider for OpenDroneMap's NodeODM (and ClusterODM, which speaks the same API).

Kind ``nodeodm.Task``: uploads images to a node, follows the processing, downloads and
unpacks the products. ``simulator`` holds the sandbox node. See docs/providers/nodeodm.md.
"""
