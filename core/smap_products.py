"""The SMAP products smapdown reads and writes: their groups, storage layouts and the role → variable name
tables (``PRODUCTS``), shared by the readers (core.smap) and the writers (core.smap_write). Names and layouts
follow the real files and NASA's product specifications (see core.smap for the three layouts)."""

from __future__ import annotations

from dataclasses import dataclass, field

FILL = -9999.0  # float fill value of every SMAP float variable
INDEX_FILL = 65534  # fill value of the uint16 EASE row/column indices
DEFAULT_ROLES = ("tb_v", "tb_h", "soil_moisture", "surface_temperature")


@dataclass(frozen=True)
class GroupSpec:
    """One data group of a product: its path, grid, role -> variable names and coordinate names."""

    key: str  # "" or "AM"/"PM" (L3 passes) or "M03"/"M01" (SPL2SMAP_S resolutions)
    path: str
    grid: str
    roles: dict[str, str]
    lat: str
    lon: str
    row: str  # EASE row index variable ("" when the layout has none)
    col: str
    suffix: str = ""  # what the group appends to the base variable names ("_pm", "_3km", "_1km")


@dataclass(frozen=True)
class ProductSpec:
    """What a reader and a writer need to know about one SMAP product."""

    name: str
    smap_name: str  # SMAPShortName of /Metadata/DatasetIdentification
    layout: str  # "global", "swath", "l1c" or "subset"
    groups: tuple[GroupSpec, ...]
    long_name: str
    dataset_short_name: str = ""  # DatasetIdentification shortName when it differs (NRT products)
    passes: tuple[str, ...] = field(default=())  # ("AM", "PM") for L3 daily products

    def group(self, key: str) -> GroupSpec:
        """The group with ``key``."""
        for g in self.groups:
            if g.key == key:
                return g
        raise KeyError(key)


def _roles(names: dict[str, str], suffix: str = "") -> dict[str, str]:
    return {role: name + suffix for role, name in names.items()}


_P_ROLES = {  # L2/L3 radiometer soil moisture (SPL2SMP, SPL3SMP and their E / NRT versions)
    "tb_v": "tb_v_corrected",
    "tb_h": "tb_h_corrected",
    "soil_moisture": "soil_moisture",
    "surface_temperature": "surface_temperature",
    "vegetation_water_content": "vegetation_water_content",
    "water_fraction": "static_water_body_fraction",
    "tb_v_uncorrected": "tb_v_uncorrected",  # before the water-body correction
    "tb_h_uncorrected": "tb_h_uncorrected",
}
_AP_ROLES = {  # radar/radiometer 9 km (SPL3SMAP, SPL2SMAP)
    "tb_v": "tb_v_disaggregated",
    "tb_h": "tb_h_disaggregated",
    "sigma0_vv": "sigma0_vv_aggregated",
    "soil_moisture": "soil_moisture",
    "surface_temperature": "surface_temperature",
    "vegetation_water_content": "vegetation_water_content",
    "water_fraction": "water_body_fraction",
}
_SP3_ROLES = {  # SMAP/Sentinel-1, 3 km group
    "tb_v": "tb_v_disaggregated_3km",
    "tb_h": "tb_h_disaggregated_3km",
    "sigma0_vv": "sigma0_vv_aggregated_3km",
    "soil_moisture": "soil_moisture_3km",
    "surface_temperature": "surface_temperature_3km",
    "vegetation_water_content": "vegetation_water_content_3km",
    "water_fraction": "water_body_fraction_3km",
}
_SP1_ROLES = {"soil_moisture": "soil_moisture_1km", "surface_temperature": "surface_temperature_1km"}
_L1C_ROLES = {"tb_v": "tb_v", "tb_h": "tb_h"}  # combined fore/aft looks
# L1C variables combined from the fore and aft looks
L1C_LOOKS = {"tb_v": ("cell_tb_v_fore", "cell_tb_v_aft"), "tb_h": ("cell_tb_h_fore", "cell_tb_h_aft")}


def _swath_group(path: str, grid: str, roles: dict[str, str]) -> GroupSpec:
    return GroupSpec("", path, grid, roles, "latitude", "longitude", "EASE_row_index", "EASE_column_index")


def _l3_groups(grid: str) -> tuple[GroupSpec, ...]:
    return (
        GroupSpec("AM", "/Soil_Moisture_Retrieval_Data_AM", grid, dict(_P_ROLES), "latitude", "longitude",
                  "EASE_row_index", "EASE_column_index"),
        GroupSpec("PM", "/Soil_Moisture_Retrieval_Data_PM", grid, _roles(_P_ROLES, "_pm"), "latitude_pm",
                  "longitude_pm", "EASE_row_index_pm", "EASE_column_index_pm", "_pm"),
    )


def _l1c_group(grid: str) -> GroupSpec:
    return GroupSpec("", "/Global_Projection", grid, dict(_L1C_ROLES), "cell_lat", "cell_lon", "cell_row",
                     "cell_column")


_SMRD = "/Soil_Moisture_Retrieval_Data"
PRODUCTS: dict[str, ProductSpec] = {
    "SPL2SMP": ProductSpec("SPL2SMP", "L2_SM_P", "swath", (_swath_group(_SMRD, "M36", dict(_P_ROLES)),),
                           "SMAP L2 Radiometer Half-Orbit 36 km EASE-Grid Soil Moisture"),
    "SPL2SMP_NRT": ProductSpec("SPL2SMP_NRT", "L2_SM_P_NRT", "swath",
                               (_swath_group(_SMRD, "M36", dict(_P_ROLES)),),
                               "SMAP L2 Radiometer Half-Orbit 36 km EASE-Grid Soil Moisture",
                               dataset_short_name="SPL2SMP"),
    "SPL2SMP_E": ProductSpec("SPL2SMP_E", "L2_SM_P_E", "swath", (_swath_group(_SMRD, "M09", dict(_P_ROLES)),),
                             "SMAP Enhanced L2 Radiometer Half-Orbit 9 km EASE-Grid Soil Moisture"),
    "SPL3SMP": ProductSpec("SPL3SMP", "L3_SM_P", "global", _l3_groups("M36"),
                           "SMAP L3 Radiometer Global Daily 36 km EASE-Grid Soil Moisture",
                           passes=("AM", "PM")),
    "SPL3SMP_E": ProductSpec("SPL3SMP_E", "L3_SM_P_E", "global", _l3_groups("M09"),
                             "SMAP Enhanced L3 Radiometer Global Daily 9 km EASE-Grid Soil Moisture",
                             passes=("AM", "PM")),
    "SPL1CTB": ProductSpec("SPL1CTB", "L1C_TB", "l1c", (_l1c_group("M36"),),
                           "SMAP L1C Radiometer Half-Orbit 36 km EASE-Grid Brightness Temperatures"),
    "SPL1CTB_E": ProductSpec("SPL1CTB_E", "L1C_TB_E", "l1c", (_l1c_group("M09"),),
                             "SMAP Enhanced L1C Radiometer Half-Orbit 9 km EASE-Grid Brightness "
                             "Temperatures"),
    "SPL3SMAP": ProductSpec("SPL3SMAP", "L3_SM_AP", "global",
                            (GroupSpec("", _SMRD, "M09", dict(_AP_ROLES), "latitude", "longitude",
                                       "EASE_row_index", "EASE_column_index"),),
                            "SMAP L3 Radar/Radiometer Global Daily 9 km EASE-Grid Soil Moisture"),
    "SPL2SMAP": ProductSpec("SPL2SMAP", "L2_SM_AP", "swath", (_swath_group(_SMRD, "M09", dict(_AP_ROLES)),),
                            "SMAP L2 Radar/Radiometer Half-Orbit 9 km EASE-Grid Soil Moisture"),
    "SPL2SMAP_S": ProductSpec(
        "SPL2SMAP_S", "L2_SM_SP", "subset",
        (GroupSpec("M03", "/Soil_Moisture_Retrieval_Data_3km", "M03", dict(_SP3_ROLES), "latitude_3km",
                   "longitude_3km", "EASE_row_index_3km", "EASE_column_index_3km", "_3km"),
         GroupSpec("M01", "/Soil_Moisture_Retrieval_Data_1km", "M01", dict(_SP1_ROLES), "latitude_1km",
                   "longitude_1km", "EASE_row_index_1km", "EASE_column_index_1km", "_1km")),
        "SMAP/Sentinel-1 L2 Radiometer/Radar 30-Second Scene 3 km EASE-Grid Soil Moisture"),
}
_BY_SMAP_NAME = {spec.smap_name: name for name, spec in PRODUCTS.items()}

# product -> default variable names (first group: AM for L3, 3 km for SPL2SMAP_S)
DEFAULT_VARIABLES: dict[str, list[str]] = {
    name: [spec.groups[0].roles[r] for r in DEFAULT_ROLES if r in spec.groups[0].roles]
    for name, spec in PRODUCTS.items()
}
