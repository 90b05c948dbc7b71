"""smapdown's QGIS-free core: EASE-Grid 2.0, product readers/writers, raster I/O, simulation.

May import numpy, GDAL (osgeo), h5py and torch (lazily); never qgis.
"""
