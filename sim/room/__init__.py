"""Room engine: driver → ear and talker → microphone impulse responses with pyroomacoustics.

One module per job: `engine` (the runs and `room_result`), `grids` (the ear and driver
directivities pyroomacoustics gets), `materials` (rooms, wall materials, Sabine estimates),
`cache` (results by content hash), `settings` (the numbers that shape the output and the
engine version).
"""

from sim.room.cache import DEFAULT_CACHE, RirCache
from sim.room.engine import listener_key, room_result, rt_time_limit_s, talker_key
from sim.room.materials import sabine_ism_order, sabine_rt60_s, surface_materials
from sim.room.settings import ENGINE_VERSION, MAX_ISM_ORDER

__all__ = [
    "DEFAULT_CACHE",
    "ENGINE_VERSION",
    "MAX_ISM_ORDER",
    "RirCache",
    "listener_key",
    "room_result",
    "rt_time_limit_s",
    "sabine_ism_order",
    "sabine_rt60_s",
    "surface_materials",
    "talker_key",
]
