"""A stand-in for `workbench.gui.audio.engine.AudioEngine` in the GUI tests: the players run
block by block when the test pumps them, deterministic and without a sound card."""

from typing import ClassVar

from workbench.gui.audio import engine as audio_engine
from workbench.gui.audio import portaudio


class FakeEngine:
    """AudioEngine's interface over a player, without PortAudio: `pump(n)` runs n blocks as
    the audio worker would (state callbacks included)."""

    instances: ClassVar[list] = []
    fail_start: ClassVar[str | None] = None

    def __init__(self, player, device=None):
        self.player, self.device = player, device
        self._listeners = []
        self.started = self.closed = False
        self.worker_error = None
        self.networks = []
        FakeEngine.instances.append(self)

    def start(self):
        if FakeEngine.fail_start:
            raise audio_engine.AudioUnavailable(FakeEngine.fail_start)
        self.started = True

    def close(self):
        self.closed = True

    def play(self):
        self.player.play()

    def pause(self):
        self.player.pause()

    def stop(self):
        self.player.stop()

    def seek(self, s):
        self.player.seek(s)

    def set_loop(self, start, end=None):
        self.player.set_loop(start, end)

    def select(self, path):
        self.player.select(path)

    def set_network(self, net):
        self.networks.append(net)
        self.player.command("network", net)

    def on_state(self, fn):
        self._listeners.append(fn)

    def meter(self):
        return self.player.meter

    @property
    def position_s(self):
        m = self.player.meter
        return 0.0 if m is None else max(0.0, m.position_s
                                         - self.player.latency / self.player.fs_hz)

    def pump(self, blocks):
        for _ in range(blocks):
            state = self.player.state
            self.player.next_block()
            if self.player.state != state:
                for fn in self._listeners:
                    fn(self.player.state, self.player.position_s)


def fake_audio(monkeypatch, host) -> type[FakeEngine]:
    """Audio 'works' for `host` (a class with `engine_factory`: AuditionController,
    ClipAudition): PortAudio is there (the app's start-up probe says so too, also on a machine
    without it), every device check passes and its engines are FakeEngines (fresh `instances`,
    no start failure)."""
    FakeEngine.instances = []
    FakeEngine.fail_start = None
    monkeypatch.setattr(portaudio, "portaudio_problem", lambda: None)
    monkeypatch.setattr(audio_engine, "output_problem", lambda *a, **k: None)
    monkeypatch.setattr(audio_engine, "list_output_devices", lambda: [])
    monkeypatch.setattr(host, "engine_factory", FakeEngine)
    return FakeEngine
