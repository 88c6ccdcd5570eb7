"""Plotly figure builders: tidy frame in, ``go.Figure`` out, German labels by default (one public function per
chart, as plotly express has them).

All figures share one template (:data:`TEMPLATE`): a palette safe for colour-blind readers (Okabe–Ito), the
number separators of the language (``1.234,5`` in German). The builders live by subject: :mod:`.caseload`,
:mod:`.referrals`, :mod:`.comparison`, :mod:`.planning`, :mod:`.posts`; every one is importable from here.
"""

from __future__ import annotations

from .caseload import (
                       closure_reasons,
                       completeness_heatmap,
                       counts_over_time,
                       load_per_post,
                       mark_incomplete,
                       needs_heatmap,
                       reach_by_district,
                       survival_curve,
)
from .comparison import bundle_breakdown, bundle_trend, funnel_plot, small_multiples
from .maps import district_map, district_positions
from .planning import expiry_figure, forecast_figure, need_index_figure, staffing_figure
from .posts import posts_by_employer, posts_over_time
from .referrals import (
                       domain_heatmap,
                       network_figure,
                       referral_funnel,
                       referral_sankey,
                       sankey,
                       status_sankey,
                       waiting_curves,
)
from .export import use_in_notebooks
from .style import DEFAULT_BAND, PALETTE, TEMPLATE, apply_style

# in a notebook's kernel, every figure also as self-contained HTML, so that exports keep it (export.py)
use_in_notebooks()

__all__ = ["TEMPLATE", "PALETTE", "apply_style", "counts_over_time", "mark_incomplete", "completeness_heatmap", "load_per_post",
           "reach_by_district", "needs_heatmap", "survival_curve", "closure_reasons", "DEFAULT_BAND", "network_figure",
           "sankey", "referral_sankey", "status_sankey", "domain_heatmap", "referral_funnel", "waiting_curves", "funnel_plot",
           "forecast_figure", "expiry_figure", "staffing_figure", "need_index_figure", "bundle_trend", "bundle_breakdown",
           "small_multiples", "district_map", "district_positions", "posts_over_time", "posts_by_employer",
           "use_in_notebooks"]
