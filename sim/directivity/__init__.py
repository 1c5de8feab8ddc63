"""Driver and microphone directivity: one class per kind behind one registry.

`Directivity` (sim.directivity.base) is what every kind is: its response, how the room engine
takes it, and its scene-file read/write. The kinds: `Omni`, `Cardioid` (first-order family),
`Piston` (baffled piston), `Sofa` (measured, from a SOFA file), `Frd` (measured polars, a
folder of FRD files). A new kind is one new module
with a `register`-ed class, imported here.
"""

from sim.directivity.base import (
    Directivity,
    ParamReader,
    angle_off_axis,
    directivity_class,
    kind_names,
    read_directivity,
    register,
    write_directivity,
)

# The import order is the registration order, in which messages list the kinds.
# isort: off
from sim.directivity.omni import Omni
from sim.directivity.cardioid import Cardioid, cardioid_gain
from sim.directivity.piston import Piston, piston_gain
from sim.directivity.sofa import Sofa
from sim.directivity.frd import Frd
from sim.directivity.measured import MeasuredPattern
# isort: on

__all__ = [
    "Cardioid",
    "Directivity",
    "Frd",
    "MeasuredPattern",
    "Omni",
    "ParamReader",
    "Piston",
    "Sofa",
    "angle_off_axis",
    "cardioid_gain",
    "directivity_class",
    "kind_names",
    "piston_gain",
    "read_directivity",
    "register",
    "write_directivity",
]
