"""Sweep specs: the cases they make, and one error naming the field for each bad input."""

from __future__ import annotations

import copy
import json

import pytest

from dsp.sweep.paths import format_path, get_path, number_paths, parse_path, with_values
from dsp.sweep.spec import load_spec, spec_from_dict
from sim.scene_fields import SceneError

SPEC = {"schema_version": 1, "kind": "sweep", "scene": "default", "engine": "freefield",
        "seed": 1,
        "vary": {"listeners[0].position[0]": {"grid": [1.5, 2.0, 2.5]},
                 "listeners[0].position[1]": {"uniform": [1.0, 3.0], "n": 10},
                 "listeners[0].head_radius": {"normal": [0.0875, 0.006], "n": 4}},
         "design": {"method": "nullsteer", "max_effort_db": 18},
         "metrics": ["cancellation_db", "itd_error_us", "ild_error_db", "effort_db"]}


def _with(**changes) -> dict:
    spec = copy.deepcopy(SPEC)
    spec.update(changes)
    return spec


def test_the_issue_example_makes_the_product_of_grids_and_seeded_draws(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC))
    spec = load_spec(path)
    assert spec.shape == (3, 10, 4) and spec.n_cases == 120
    first, last = spec.case_values(0), spec.case_values(119)
    assert first["listeners[0].position[0]"] == 1.5 and last["listeners[0].position[0]"] == 2.5
    ys = {spec.case_values(i)["listeners[0].position[1]"] for i in range(120)}
    assert len(ys) == 10 and all(1.0 <= y <= 3.0 for y in ys)
    again = spec_from_dict(copy.deepcopy(SPEC))
    assert again.digest() == spec.digest() and again.case_values(77) == spec.case_values(77)
    other = spec_from_dict(_with(seed=2))
    assert other.digest() != spec.digest()
    assert other.case_values(0)["listeners[0].position[1]"] != first["listeners[0].position[1]"]


@pytest.mark.parametrize(("vary", "field", "words"), [
    ({"listeners[3].position[0]": {"grid": [1.0]}}, 'vary["listeners[3].position[0]"]',
     "unknown path"),
    ({"listeners[0].head_size": {"grid": [1.0]}}, 'vary["listeners[0].head_size"]',
     "unknown path"),
    ({"listeners[0].position": {"grid": [1.0]}}, 'vary["listeners[0].position"]',
     "not a number"),
    ({"listeners[0]..x": {"grid": [1.0]}}, 'vary["listeners[0]..x"]', "not a field path"),
    ({"listeners[0].position[0]": {"grid": []}}, 'vary["listeners[0].position[0]"].grid',
     "empty range"),
    ({"listeners[0].position[0]": {"uniform": [2.0, 2.0], "n": 3}},
     'vary["listeners[0].position[0]"].uniform', "empty range"),
    ({"listeners[0].position[0]": {"uniform": [1.0, 2.0], "n": 0}},
     'vary["listeners[0].position[0]"].n', "n = 0"),
    ({"listeners[0].head_radius": {"normal": [0.09, 0.0], "n": 3}},
     'vary["listeners[0].head_radius"].normal', "standard deviation"),
    ({"listeners[0].position[0]": {"grid": [1.0], "n": 2}},
     'vary["listeners[0].position[0]"].n', "unknown key"),
    ({"design.n_taps": {"grid": [512]}}, 'vary["design.n_taps"]', "unknown design parameter"),
    ({"design.max_effort_db": {"grid": [12, 18]}}, "design.per_case", "per_case = true"),
    ({}, "vary", "empty"),
])
def test_bad_vary_entries_name_their_field(vary, field, words):
    with pytest.raises(SceneError) as err:
        spec_from_dict(_with(vary=vary))
    assert err.value.field == field
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("changes", "field"), [
    ({"engine": "raytracer"}, "engine"),
    ({"metrics": ["loudness"]}, "metrics[0]"),
    ({"design": {"method": "beam"}}, "design.method"),
    ({"design": {"method": "ctc", "listener": 3}}, "design.listener"),
    ({"kind": "scene"}, "kind"),
    ({"timeout_s": 0}, "timeout_s"),
])
def test_bad_settings_name_their_field(changes, field):
    with pytest.raises(SceneError) as err:
        spec_from_dict(_with(**changes))
    assert err.value.field == field


def test_a_spec_file_error_names_the_file_and_a_scene_file_is_found_beside_it(tmp_path):
    from sim.scene_io import load_scene, save_scene

    save_scene(load_scene("default"), tmp_path / "my scene.json")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_with(scene="my scene.json")))
    assert load_spec(path).scene["listeners"][0]["position"] == [2.5, 3.0, 1.0]
    path.write_text(json.dumps(_with(vary={"room.height": {"grid": [3.0]}})))
    with pytest.raises(SceneError, match=r"spec\.json: vary\[\"room\.height\"\]: unknown path"):
        load_spec(path)


def test_paths_parse_format_read_and_replace():
    data = {"listeners": [{"position": [1.0, 2.0, 3.0], "name": "a"}], "flag": True}
    steps = parse_path("listeners[0].position[1]")
    assert steps == ("listeners", 0, "position", 1) and format_path(steps) == \
        "listeners[0].position[1]"
    assert get_path(data, steps) == 2.0
    new = with_values(data, {steps: 9.0})
    assert get_path(new, steps) == 9.0 and get_path(data, steps) == 2.0
    assert number_paths(data) == ["listeners[0].position[0]", "listeners[0].position[1]",
                                  "listeners[0].position[2]"]
    for bad in ("", "[0]", "a.", "a[x]", "a b"):
        with pytest.raises(ValueError):
            parse_path(bad)
