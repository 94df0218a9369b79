"""The run report: `report.md` and a self-contained `report.html` in every run's record."""
