"""Packet-loss models against closed forms, the shared real trace and malformed files."""

import math

import numpy as np
import pytest
from conftest import shared_file

from dsp.dred.loss import (
    LossError,
    LossModel,
    bernoulli,
    burst_stats,
    gilbert_elliott,
    loss_percent,
    parse_loss,
    read_trace,
)

N = 200_000


def test_burst_stats_of_a_hand_made_mask():
    s = burst_stats(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1]))
    assert s == {"n": 9, "rate": pytest.approx(6 / 9), "n_bursts": 3,
                 "mean_burst": pytest.approx(2.0), "max_burst": 3}
    assert burst_stats(np.zeros(5, bool))["mean_burst"] == 0.0
    with pytest.raises(LossError, match="1-D"):
        burst_stats(np.zeros((2, 3), bool))
    with pytest.raises(LossError, match="0/1"):
        burst_stats(np.array([0, 2, 1]))


@pytest.mark.parametrize("rate", [0.05, 0.3])
def test_bernoulli_rate_and_geometric_bursts(rate):
    s = burst_stats(bernoulli(rate, N, seed=3))
    assert abs(s["rate"] - rate) < 4 * math.sqrt(rate * (1 - rate) / N)
    # Runs of independent losses are geometric: mean 1/(1-rate).
    expected = 1 / (1 - rate)
    sd = math.sqrt(rate) / (1 - rate) / math.sqrt(s["n_bursts"])
    assert abs(s["mean_burst"] - expected) < 4 * sd


@pytest.mark.parametrize(("rate", "mean_burst"), [(0.2, 10.0), (0.1, 2.0), (0.5, 3.0)])
def test_gilbert_elliott_matches_its_markov_chain(rate, mean_burst):
    m = gilbert_elliott(rate, mean_burst, N, seed=11)
    assert m.shape == (N,) and m.dtype == bool
    s = burst_stats(m)
    p_gb, p_bg = rate / (mean_burst * (1 - rate)), 1 / mean_burst
    lam = 1 - p_gb - p_bg  # second eigenvalue: the chain's lag-1 autocorrelation
    sd_rate = math.sqrt(rate * (1 - rate) / N * (1 + lam) / (1 - lam))
    assert abs(s["rate"] - rate) < 4 * sd_rate
    sd_burst = math.sqrt(1 - p_bg) / p_bg / math.sqrt(s["n_bursts"])
    assert abs(s["mean_burst"] - mean_burst) < 4 * sd_burst
    # Geometric burst lengths: P(length == 1) = P(bad→good).
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    sd_p1 = math.sqrt(p_bg * (1 - p_bg) / lengths.size)
    assert abs(np.mean(lengths == 1) - p_bg) < 4 * sd_p1


def test_gilbert_elliott_starts_from_the_stationary_distribution():
    first = np.array([gilbert_elliott(0.3, 5.0, 1, seed=s)[0] for s in range(4000)])
    assert abs(first.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 4000)


def test_seeds_reproduce_and_differ():
    for gen in (lambda s: bernoulli(0.2, 5000, s), lambda s: gilbert_elliott(0.2, 4, 5000, s)):
        assert np.array_equal(gen(7), gen(7))
        assert not np.array_equal(gen(7), gen(8))


def test_zero_rate_and_bad_parameters():
    assert not gilbert_elliott(0.0, 5.0, 1000).any()
    assert not bernoulli(0.0, 1000).any() and bernoulli(1.0, 1000).all()
    with pytest.raises(LossError, match="mean burst"):
        gilbert_elliott(0.2, 0.5, 10)
    with pytest.raises(LossError, match=r"\[0, 1\)"):
        gilbert_elliott(1.0, 5.0, 10)
    with pytest.raises(LossError, match="mean_burst >="):
        gilbert_elliott(0.8, 2.0, 10)  # needs good runs shorter than one packet
    with pytest.raises(LossError, match="rate"):
        bernoulli(-0.1, 10)
    with pytest.raises(LossError, match="non-negative integer"):
        bernoulli(0.1, -3)


def test_shared_trace_statistics():
    path = shared_file("loss_traces/opus_ng_high_is_lost_part1_pkts00000-07499.txt")
    s = burst_stats(read_trace(path))
    assert s["n"] == 7500
    assert round(100 * s["rate"], 1) == 67.3
    assert s["n_bursts"] == 1403
    assert round(s["mean_burst"], 2) == 3.60
    assert s["max_burst"] == 41


def test_trace_crlf_blank_lines_and_tiling(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"0\r\n1\r\n\r\n1\r\n0\n  \n1")
    t = read_trace(p)
    assert t.tolist() == [False, True, True, False, True]
    m = LossModel("trace", path=str(p)).mask(12, seed=5)
    assert m.tolist() == (t.tolist() * 3)[:12]
    assert LossModel("trace", path=str(p)).mask(3).tolist() == t.tolist()[:3]


@pytest.mark.parametrize(("content", "line"), [
    (b"0\n1\n2\n", 3), (b"0\n\n\nlost\n", 4), (b"1\r\n0 1\r\n", 2), (b"0\n\xff\xfe\n", 2),
    (b"0.5\n", 1),
])
def test_malformed_trace_names_file_and_line(tmp_path, content, line):
    p = tmp_path / "bad_trace.txt"
    p.write_bytes(content)
    with pytest.raises(LossError, match=rf"bad_trace\.txt, line {line}:"):
        read_trace(p)


def test_empty_and_missing_trace(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"\n\r\n")
    with pytest.raises(LossError, match=r"empty\.txt: empty"):
        read_trace(p)
    with pytest.raises(LossError, match=r"nope\.txt"):
        read_trace(tmp_path / "nope.txt")


def test_parse_loss_specs():
    assert parse_loss("none") == LossModel("none")
    assert parse_loss("bernoulli:0.1") == LossModel("bernoulli", rate=0.1)
    assert parse_loss(" GE:0.2,10 ") == LossModel("ge", rate=0.2, mean_burst=10.0)
    assert parse_loss("trace:/tmp/x.txt") == LossModel("trace", path="/tmp/x.txt")
    assert (parse_loss("ge:0.2,10").describe()
            == "Gilbert–Elliott 20.0 % loss, mean burst 10 packets")
    assert parse_loss("bernoulli:0.05").describe() == "Bernoulli 5.0 % loss"
    assert parse_loss("none").mask(4).tolist() == [False] * 4
    ge = parse_loss("ge:0.2,10")
    assert np.array_equal(ge.mask(3000, seed=2), gilbert_elliott(0.2, 10, 3000, seed=2))


@pytest.mark.parametrize("spec", ["", "bernoulli", "bernoulli:x", "ge:0.2", "ge:0.2,3,4",
                                  "trace:", "gauss:0.1", "none:1", "bernoulli:nan"])
def test_parse_loss_rejects_with_the_syntax(spec):
    with pytest.raises(LossError, match="expected 'none', 'bernoulli:RATE', 'ge:RATE,MEAN_BURST'"):
        parse_loss(spec)


def test_parse_loss_rejects_bad_values():
    with pytest.raises(LossError, match="rate"):
        parse_loss("bernoulli:1.5")
    with pytest.raises(LossError, match="mean burst"):
        parse_loss("ge:0.2,0")
    with pytest.raises(LossError, match="kind"):
        LossModel("poisson")


def test_loss_percent_of_models_traces_and_masks(tmp_path):
    trace = tmp_path / "t.txt"
    trace.write_text("0\n1\n1\n0\n" * 5)
    assert loss_percent(parse_loss("none")) == 0
    assert loss_percent(parse_loss("bernoulli:0.126")) == 13
    assert loss_percent(parse_loss("ge:0.2,10")) == 20
    assert loss_percent(parse_loss(f"trace:{trace}")) == 50
    assert loss_percent(np.array([True, False, False, False])) == 25
    assert loss_percent(np.array([1, 1, 1])) == 100
    assert loss_percent(np.zeros(0, bool)) == 0
