"""The export format registry is the one list: the writers, `awb design --format` (choices,
default, help) and `dsp.export.export` all follow it, so a registered format shows up
everywhere without another edit."""

import numpy as np
import pytest

from dsp.export import export, export_formats, format_names, get_format, registry
from dsp.filterset import FilterSet
from workbench.cli.main import build_parser, main


@pytest.fixture(scope="module")
def filters():
    fir = np.random.default_rng(3).standard_normal((2, 2, 32))
    return FilterSet(fir=fir, fs_hz=48000, delay_samples=16,
                     meta={"method": "ctc", "scene": "t", "inputs": ["left", "right"],
                           "drivers": ["a", "b"]})


@pytest.fixture
def fake_format(monkeypatch):
    """A format registered for the test only (the registry is restored afterwards)."""
    calls = []

    def write(fs, out, stem):
        path = out / f"{stem}.fake"
        path.write_text(f"{fs.n_inputs}x{fs.n_drivers}x{fs.n_taps}")
        calls.append(path)
        return [path]

    monkeypatch.setitem(registry._REGISTRY, "fake",
                        registry.ExportFormat("fake", "Fake text for the test", ".fake", write))
    return calls


def test_every_format_is_declared_once_and_writes_its_suffix(filters, tmp_path):
    assert format_names() == ("wav", "csv", "npz", "json", "c", "camilladsp", "eqapo", "sofa")
    assert [f.name for f in export_formats()] == list(format_names())
    assert len({f.label for f in export_formats()}) == len(format_names())
    written = export(filters, tmp_path)
    for fmt in export_formats():
        paths = written[fmt.name]
        assert paths and paths[0].suffix == fmt.suffix and all(p.is_file() for p in paths)


def test_registering_twice_and_unknown_names_are_refused(filters, tmp_path):
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(get_format("npz"))
    with pytest.raises(ValueError, match="unknown export format 'mp3'; known: wav, csv"):
        export(filters, tmp_path, ["npz", "mp3"])
    assert not list(tmp_path.iterdir())  # nothing written before the refusal


def test_a_registered_format_reaches_the_cli_help_default_and_export(fake_format, filters,
                                                                     tmp_path, capsys):
    calls = fake_format
    with pytest.raises(SystemExit):
        build_parser().parse_args(["design", "--help"])
    assert "fake" in capsys.readouterr().out
    args = build_parser().parse_args(["design", "x", "--method", "ctc", "--out", "o"])
    assert args.format.split(",") == list(format_names()) and "fake" in args.format
    assert export(filters, tmp_path, ["fake"]) == {"fake": calls}
    assert calls[0].read_text() == "2x2x32"

    out = tmp_path / "cli"
    code = main(["design", "design-stereo-2", "--method", "ctc", "--taps", "256", "--out",
                 str(out), "--format", "fake,npz"])
    assert code == 0, capsys.readouterr().err
    assert (out / "filters.fake").read_text().startswith("2x2x256")
    assert (out / "filters.npz").is_file()


def test_the_cli_refuses_a_format_the_registry_does_not_hold(tmp_path, capsys):
    code = main(["design", "design-stereo-2", "--method", "ctc", "--out", str(tmp_path / "o"),
                 "--format", "npz,fake"])
    assert code == 2
    assert "--format fake: unknown (choose from wav,csv,npz" in capsys.readouterr().err
