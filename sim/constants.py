"""Physical defaults shared by the simulation modules (SI units)."""

SPEED_OF_SOUND_M_S = 343.0
"""Speed of sound in air at about 20 °C, m/s."""

DEFAULT_HEAD_RADIUS_M = 0.0875
"""Rigid-sphere head radius commonly used for an average adult head, m."""
