"""The voice chain's clock: 16 kHz mono, 20 ms blocks (one Opus packet each), 10 ms fades."""

FS_HZ = 16000
BLOCK = 320
BLOCK_MS = 20
FADE = 160  # 10 ms crossfades: bypass, gains, tap switches
