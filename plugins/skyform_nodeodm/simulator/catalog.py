"""The option list a NodeODM 2.2.4 node running ODM 3.x serves at ``GET /options``.

Names, types, defaults and domains follow ODM's argparse definitions as NodeODM's
``odmInfo.getOptions`` converts them: ``store_true`` flags become ``bool``, ``choices``
become ``enum`` with the choices as the domain, the metavar without ``<>`` becomes the
domain string, and every default is a string. Help texts are shortened.
"""

from __future__ import annotations

from typing import Any

STAGES = ["dataset", "split", "merge", "opensfm", "openmvs", "odm_filterpoints", "odm_meshing",
          "mvs_texturing", "odm_georeferencing", "odm_dem", "odm_orthophoto", "odm_report",
          "odm_postprocess"]
QUALITY = ["ultra", "high", "medium", "low", "lowest"]

# (name, type, default, domain, help)
_OPTIONS: list[tuple[str, str, str, Any, str]] = [
    ("3d-tiles", "bool", "false", "", "Generate OGC 3D Tiles outputs."),
    ("align", "string", "", "path string", "Path to a GeoTIFF DEM or a LAS/LAZ point cloud that the outputs should be aligned to."),
    ("auto-boundary", "bool", "false", "", "Automatically set a boundary using camera shot locations."),
    ("auto-boundary-distance", "float", "0", "positive float", "Distance between camera shot locations and the outer edge of the boundary."),
    ("bg-removal", "bool", "false", "", "Automatically compute image masks using AI to remove the background."),
    ("boundary", "string", "", "json", "GeoJSON polygon limiting the area of the reconstruction."),
    ("build-overviews", "bool", "false", "", "Build orthophoto overviews for faster display."),
    ("camera-lens", "enum", "auto", ["auto", "perspective", "brown", "fisheye", "fisheye_opencv", "spherical", "equirectangular", "dual"], "Set a camera projection type."),
    ("cameras", "string", "", "json", "Use the camera parameters computed from another dataset."),
    ("cog", "bool", "false", "", "Create Cloud-Optimized GeoTIFFs instead of normal GeoTIFFs."),
    ("copy-to", "string", "", "path", "Copy output results to this folder after processing."),
    ("crop", "float", "3", "positive float", "Crop image outputs by a buffer around the dataset boundaries, in meters. 0 disables."),
    ("dem-decimation", "int", "1", "positive integer", "Decimate the points before generating the DEM."),
    ("dem-euclidean-map", "bool", "false", "", "Computes an euclidean raster map for each DEM."),
    ("dem-gapfill-steps", "int", "3", "positive integer", "Number of steps used to fill areas with gaps."),
    ("dem-resolution", "float", "5", "float", "DSM/DTM resolution in cm / pixel."),
    ("dsm", "bool", "false", "", "Build a DSM (Digital Surface Model, ground + objects)."),
    ("dtm", "bool", "false", "", "Build a DTM (Digital Terrain Model, ground only)."),
    ("end-with", "enum", "odm_postprocess", STAGES, "End processing at this stage."),
    ("fast-orthophoto", "bool", "false", "", "Skips dense reconstruction and 3D model generation."),
    ("feature-quality", "enum", "high", QUALITY, "Set feature extraction quality."),
    ("feature-type", "enum", "dspsift", ["akaze", "dspsift", "hahog", "orb", "sift"], "Keypoint and descriptor algorithm."),
    ("force-gps", "bool", "false", "", "Use images' GPS exif data for reconstruction, even if there are GCPs present."),
    ("gltf", "bool", "false", "", "Generate single file Binary glTF (GLB) textured models."),
    ("gps-accuracy", "float", "3", "positive float", "GPS Dilution of Precision in meters for all images."),
    ("gps-z-offset", "float", "0", "float", "GPS offset in meters for the vertical axis."),
    ("ignore-gsd", "bool", "false", "", "Ignore Ground Sampling Distance (GSD)."),
    ("matcher-neighbors", "int", "0", "positive integer", "Match with the nearest images based on GPS exif data. 0 matches by triangulation."),
    ("matcher-order", "int", "0", "positive integer", "Match with the nearest N images based on filename order."),
    ("matcher-type", "enum", "flann", ["bow", "bruteforce", "flann"], "Matcher algorithm."),
    ("max-concurrency", "int", "4", "positive integer", "The maximum number of processes to use."),
    ("merge", "enum", "all", ["all", "pointcloud", "orthophoto", "dem"], "What to merge in the merge step of a split dataset."),
    ("mesh-octree-depth", "int", "11", "integer: 1 <= x <= 14", "Octree depth used in the mesh reconstruction."),
    ("mesh-size", "int", "200000", "positive integer", "The maximum vertex count of the output mesh."),
    ("min-num-features", "int", "10000", "integer", "Minimum number of features to extract per image."),
    ("no-gpu", "bool", "false", "", "Do not use GPU acceleration, even if it's available."),
    ("optimize-disk-space", "bool", "false", "", "Delete heavy intermediate files to optimize disk space usage."),
    ("orthophoto-compression", "enum", "DEFLATE", ["JPEG", "LZW", "PACKBITS", "DEFLATE", "LZMA", "NONE"], "Compression for orthophotos."),
    ("orthophoto-cutline", "bool", "false", "", "Generates a polygon around the cropping area."),
    ("orthophoto-kmz", "bool", "false", "", "Generate a Google Earth (KMZ) rendering of the orthophoto."),
    ("orthophoto-no-tiled", "bool", "false", "", "Generate a striped GeoTIFF."),
    ("orthophoto-png", "bool", "false", "", "Generate a PNG rendering of the orthophoto."),
    ("orthophoto-resolution", "float", "5", "float > 0.0", "Orthophoto resolution in cm / pixel."),
    ("pc-classify", "bool", "false", "", "Classify the point cloud outputs."),
    ("pc-copc", "bool", "false", "", "Save the point cloud in Cloud Optimized Point Cloud (COPC) format."),
    ("pc-csv", "bool", "false", "", "Export the georeferenced point cloud in CSV format."),
    ("pc-ept", "bool", "false", "", "Export the georeferenced point cloud in Entwine Point Tile (EPT) format."),
    ("pc-filter", "float", "5", "positive float", "Remove points that deviate more than N standard deviations."),
    ("pc-las", "bool", "false", "", "Export the georeferenced point cloud in LAS format."),
    ("pc-quality", "enum", "medium", QUALITY, "Set point cloud quality."),
    ("pc-sample", "float", "0", "positive float", "Keep only a single point around a radius N (meters)."),
    ("pc-skip-geometric", "bool", "false", "", "Disable geometric estimates of depthmaps."),
    ("primary-band", "string", "auto", "string", "Primary band of a multispectral dataset."),
    ("radiometric-calibration", "enum", "none", ["none", "camera", "camera+sun"], "Radiometric calibration of the images."),
    ("rerun-from", "enum", "", STAGES, "Rerun processing from this stage."),
    ("rolling-shutter", "bool", "false", "", "Turn on rolling shutter correction."),
    ("rolling-shutter-readout", "float", "0", "positive integer", "Rolling shutter readout time in milliseconds."),
    ("sfm-algorithm", "enum", "incremental", ["incremental", "triangulation", "planar"], "Structure from motion algorithm."),
    ("sfm-no-partial", "bool", "false", "", "Do not attempt to merge partial reconstructions."),
    ("skip-3dmodel", "bool", "false", "", "Skip generation of a full 3D model."),
    ("skip-band-alignment", "bool", "false", "", "Skip multispectral band alignment."),
    ("skip-orthophoto", "bool", "false", "", "Skip generation of the orthophoto."),
    ("skip-report", "bool", "false", "", "Skip generation of the PDF report."),
    ("sky-removal", "bool", "false", "", "Automatically compute image masks using AI to remove the sky."),
    ("sm-cluster", "string", "None", "string", "URL to a ClusterODM instance for split-merge."),
    ("sm-no-align", "bool", "false", "", "Skip alignment of submodels in split-merge."),
    ("smrf-scalar", "float", "1.25", "positive float", "Simple Morphological Filter elevation scalar parameter."),
    ("smrf-slope", "float", "0.15", "positive float", "Simple Morphological Filter slope parameter."),
    ("smrf-threshold", "float", "0.5", "positive float", "Simple Morphological Filter elevation threshold (meters)."),
    ("smrf-window", "float", "18.0", "positive float", "Simple Morphological Filter window radius (meters)."),
    ("split", "int", "999999", "positive integer", "Average number of images per submodel."),
    ("split-image-groups", "string", "", "path string", "Path to the image groups file."),
    ("split-overlap", "float", "150", "positive integer", "Radius of the overlap between submodels in meters."),
    ("texturing-keep-unseen-faces", "bool", "false", "", "Keep faces in the mesh that are not seen in any camera."),
    ("texturing-single-material", "bool", "false", "", "Generate OBJs with a single material and texture."),
    ("texturing-skip-global-seam-leveling", "bool", "false", "", "Skip normalization of colors across all images."),
    ("tiles", "bool", "false", "", "Generate static tiles for orthophotos and DEMs."),
    ("use-3dmesh", "bool", "false", "", "Use a full 3D mesh to compute the orthophoto."),
    ("use-exif", "bool", "false", "", "Use EXIF information for georeferencing even with a GCP file."),
    ("use-fixed-camera-params", "bool", "false", "", "Turn off camera parameter optimization."),
    ("use-hybrid-bundle-adjustment", "bool", "false", "", "Local bundle adjustment for every image added."),
    ("video-limit", "int", "500", "positive integer", "Maximum number of frames to extract from videos."),
    ("video-resolution", "int", "4000", "positive integer", "Maximum resolution of extracted video frames."),
]


def options() -> list[dict[str, Any]]:
    """The ``GET /options`` answer: ``[{name, type, value, domain, help}]``."""
    out = []
    for name, type_, value, domain, help_ in _OPTIONS:
        dom = list(domain) if isinstance(domain, list) else domain
        if isinstance(dom, list) and value not in dom:
            dom.insert(0, value)  # NodeODM puts the default first when it is not a choice
        out.append({"name": name, "type": type_, "value": value, "domain": dom, "help": help_})
    return out
