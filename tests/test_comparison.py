"""Funnel limits and over-dispersion, expected values worked out by hand.

Poisson, target 0.002 per inhabitant, 1,000 inhabitants: expected count λ = 2.
P(Y ≤ k) for k = 0 … 5: 0.135335, 0.406006, 0.676676, 0.857123, 0.947347, 0.983436.
Upper 97.5 %: r = 5 (first k with F ≥ 0.975), α = (0.983436 − 0.975) / (0.983436 − 0.947347) = 0.23375
→ 4.76625 events → 4.76625 per 1,000. Lower 2.5 %: r = 0, α = (0.135335 − 0.025) / 0.135335 = 0.8153 → below 0 → 0.

Binomial, target 0.5, n = 10: P(Y ≤ 7) = 1 − 56/1024 = 0.9453125, P(Y ≤ 8) = 1 − 11/1024 = 0.9892578.
Upper 97.5 %: r = 8, α = 0.0142578 / 0.0439453 = 0.324444 → 7.675556 / 10 = 0.7675556.

Over-dispersion: ten units of 100 with shares 0.4 or 0.6 (five each) around 0.5: every z = ±0.1/0.05 = ±2,
winsorising changes nothing, φ = 4. Limits at n = 100 then 0.5 ± 1.959964 · √(4 · 0.25 / 100) = 0.5 ± 0.19600.
Without it a share of 0.6 lies above the exact 97.5 % limit at n = 100: r = 60 (P(Y ≤ 59) = 0.97156,
P(Y ≤ 60) = 0.98240), α = 0.00740 / 0.01084 = 0.683 → 0.59317; but 0.4 lies inside the lower one, which the
discreteness puts a little lower: r = 40 (P(Y ≤ 39) = 0.01760, P(Y ≤ 40) = 0.02844), α = 0.00344 / 0.01084
= 0.3176 → 0.39682.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kimtools.analysis.comparison import funnel_limits, funnel_table, overdispersion


def test_exact_poisson_limits_for_a_small_count():
    lim = funnel_limits(0.002, [1000], kind="poisson", levels=[0.95]).iloc[0]
    assert lim["oben_95"] * 1000 == pytest.approx(4.76625, abs=1e-4)
    assert lim["unten_95"] == 0


def test_exact_binomial_limit():
    assert funnel_limits(0.5, [10], kind="binomial", levels=[0.95]).iloc[0]["oben_95"] == pytest.approx(0.7675556, abs=1e-6)


def test_limits_narrow_with_the_denominator():
    lim = funnel_limits(0.01, [100, 1000, 10000, 100000], levels=[0.95, 0.998])
    assert (np.diff(lim["oben_95"]) < 0).all() and (np.diff(lim["unten_95"]) >= 0).all()
    assert (lim["oben_99,8"] > lim["oben_95"]).all()


def test_overdispersion_widens_the_limits():
    units = pd.DataFrame({"einheit": list("ABCDEFGHIJ"), "zaehler": [40, 60] * 5, "nenner": 100})
    assert overdispersion(units["zaehler"], units["nenner"], 0.5, "binomial") == pytest.approx(4.0)
    plain = funnel_table(units, "einheit", kind="binomial", levels=[0.95]).set_index("einheit")
    assert plain.loc["B", "oben_95"] == pytest.approx(0.59317, abs=1e-4)
    assert plain.loc["A", "unten_95"] == pytest.approx(0.39682, abs=1e-4)
    assert (plain["lage"] == ["innerhalb", "ueber_95"] * 5).all()         # half "deviate" although all are alike
    wide = funnel_table(units, "einheit", kind="binomial", levels=[0.95], use_overdispersion=True).set_index("einheit")
    assert wide["phi"].iloc[0] == pytest.approx(4.0)
    assert wide["unten_95"].tolist() == [pytest.approx(0.5 - 0.19600, abs=1e-5)] * 10
    assert wide["oben_95"].tolist() == [pytest.approx(0.5 + 0.19600, abs=1e-5)] * 10
    assert (wide["lage"] == "innerhalb").all()


def test_a_small_district_with_an_extreme_rate_is_not_flagged():
    """A district of 500 with 3 persons reached (6 per 1,000) next to large ones. The pooled rate is
    503 / 150,500 = 3.342 per 1,000, so the small district expects λ = 1.671 and P(Y ≥ 3) =
    1 − e^−1.671 · (1 + 1.671 + 1.396) = 0.235: well inside. A large district with the same rate
    (300 of 50,000 against an expected 167) lies far outside."""
    units = pd.DataFrame({"bezirk": ["klein", "gross", "a", "b"], "zaehler": [3, 300, 100, 100],
                          "nenner": [500, 50_000, 50_000, 50_000]})
    t = funnel_table(units, "bezirk", scale=1000).set_index("bezirk")
    assert t.loc["klein", "wert"] == pytest.approx(6.0) and t.loc["klein", "lage"] == "innerhalb"
    assert t.loc["gross", "lage"] == "ueber_99,8"
    assert t.loc["klein", "ziel"] == pytest.approx(503 / 150_500 * 1000)


def test_funnel_plot_draws_limits_and_colours_only_clear_deviations():
    from kimtools.present.figures import PALETTE, funnel_plot

    units = pd.DataFrame({"bezirk": ["klein", "gross", "a", "b"], "zaehler": [3, 300, 100, 100],
                          "nenner": [500, 50_000, 50_000, 50_000]})
    fig = funnel_plot(units, "bezirk", scale=1000, value_label="je 1.000 Einwohner")
    points = fig.data[-1]
    colour = dict(zip(points.customdata, points.marker.color))
    assert colour["klein"] == PALETTE[0] and colour["gross"] == PALETTE[3]
    # a and b: 100 against an expected 167 each, clearly below; only the small district stays unlabelled
    assert dict(zip(points.customdata, points.text)) == {"klein": "", "gross": "gross", "a": "a", "b": "b"}
    limits = [t for t in fig.data if t.name and t.name.startswith("Kontrollgrenze")]
    assert len(limits) == 4 and {t.name for t in limits} == {"Kontrollgrenze 95 %", "Kontrollgrenze 99,8 %"}
    upper95 = next(t for t in limits if t.name == "Kontrollgrenze 95 %" and t.showlegend)
    assert upper95.y[0] > upper95.y[-1]                       # the funnel narrows
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.title.text == "je 1.000 Einwohner"


def test_peer_table_marks_only_clear_deviations():
    """Four districts; reach: 3/500, 300/50,000, 100/50,000, 100/50,000 (as above: klein inside, the others
    outside). Goal reached: 5/10, 6/10, 5/10, 4/10 — pooled 0.5, all inside (n = 10 is wide).
    Reach per 1,000: 6, 6, 2, 2 → median 4, quartiles 2 and 6. Shares 0.5, 0.6, 0.5, 0.4 → median 0.5,
    quartiles 0.475 and 0.525 (linear interpolation)."""
    from kimtools.analysis.comparison import comparable_indicators, peer_table

    rows = pd.DataFrame({
        "bezirk": ["klein", "gross", "a", "b"] * 2,
        "kennzahl": ["reichweite_je_1000"] * 4 + ["abschluesse_ziel_erreicht_quote"] * 4,
        "zaehler": [3, 300, 100, 100, 5, 6, 5, 4], "nenner": [500, 50_000, 50_000, 50_000, 10, 10, 10, 10]})
    kinds = comparable_indicators()
    assert kinds["reichweite_je_1000"] == ("poisson", 1000.0) and kinds["annahmequote"] == ("binomial", 1.0)
    assert "neuzugaenge" not in kinds and "wartezeit_median_tage" not in kinds
    t = peer_table(rows, "bezirk").set_index(["kennzahl", "bezirk"])
    reach = t.loc["reichweite_je_1000"]
    assert reach["lage"].to_dict() == {"klein": "innerhalb", "gross": "ueber_99,8", "a": "unter_99,8", "b": "unter_99,8"}
    assert (reach["median"].iloc[0], reach["q1"].iloc[0], reach["q3"].iloc[0]) == (pytest.approx(4), pytest.approx(2), pytest.approx(6))
    goal = t.loc["abschluesse_ziel_erreicht_quote"]
    assert (goal["lage"] == "innerhalb").all()
    assert (goal["q1"].iloc[0], goal["q3"].iloc[0]) == (pytest.approx(0.475), pytest.approx(0.525))
