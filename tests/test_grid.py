import numpy as np
import pytest

from smapdown.core.grid import GRIDS, Grid, GridError


def test_global_geotransforms_share_corner_and_nest():
    m36, m09 = Grid.global_grid("M36"), Grid.global_grid("M09")
    assert m36.geotransform()[0] == m09.geotransform()[0] == -17367530.4451615
    assert m36.refine("M09") == m09
    assert m36.factor_to("M01") == 36
    assert abs(GRIDS["M36"][0] - 4 * GRIDS["M09"][0]) < 1e-6


def test_centre_formula_and_lonlat_roundtrip():
    g = Grid.global_grid("M36")
    x, y = g.xy(0, 0)
    assert x == pytest.approx(-(963 / 2) * 36032.220840584)
    assert y == pytest.approx((405 / 2) * 36032.220840584)
    lon, lat = g.lonlat(np.array([203]), np.array([482]))
    assert abs(lon[0]) < 1.0 and abs(lat[0]) < 1.0
    r, c = g.rowcol(*g.xy(np.array([17, 300]), np.array([5, 900])))
    assert list(r) == [17, 300] and list(c) == [5, 900]


def test_subset_lonlat_extent_and_errors():
    g = Grid.global_grid("M09")
    w = g.subset((-98.0, 36.0, -97.0, 37.0), "EPSG:4326")
    lon, lat = w.lonlat(np.array([0, w.rows - 1]), np.array([0, w.cols - 1]))
    assert -98.1 < lon[0] < -97.9 and 36.9 < lat[0] < 37.1
    assert w.coarsen("M36").refine("M09").rows >= w.rows
    with pytest.raises(GridError):
        g.window(0, 0, 10, 10).subset((10.0, 10.0, 11.0, 11.0), "EPSG:4326")
    with pytest.raises(GridError):
        Grid.global_grid("M25")


def test_subset_on_cell_edges_takes_no_extra_cell():
    g = Grid.global_grid("M36")
    w = g.window(100, 200, 3, 4)
    assert g.subset(w.bounds()) == w
    assert g.refine("M09").subset(w.bounds()) == w.refine("M09")
