"""Audio device availability (Qt-free). The PortAudio stream itself comes later; for now the app
only needs to know at start whether playback can work, and to say why not."""

from __future__ import annotations

PORTAUDIO_MISSING = "Audio playback unavailable: PortAudio not found (install libportaudio2)"


def portaudio_problem() -> str | None:
    """None when `sounddevice` imports (PortAudio is usable), else a one-line reason for users.

    `import sounddevice` raises OSError("PortAudio library not found") when the shared library is
    missing; the app must still start, with playback disabled.
    """
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return PORTAUDIO_MISSING
    except ImportError:
        return "Audio playback unavailable: the sounddevice package is not installed"
    return None
