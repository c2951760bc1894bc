"""Session reports: a self-contained HTML page with plots, set summaries and insights.

``build_report([from_analysis(analysis, "monday")])`` -> :class:`Report`; see docs/report.md.
"""

from imu.report.build import Report, build_report, rep_csv_table, write_rep_csv
from imu.report.data import SessionData, from_analysis, from_json
from imu.report.insights import Insight, InsightSettings

__all__ = [
    "Insight",
    "InsightSettings",
    "Report",
    "SessionData",
    "build_report",
    "from_analysis",
    "from_json",
    "rep_csv_table",
    "write_rep_csv",
]
