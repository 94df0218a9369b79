"""The report page's one style sheet and its status colours (no external font, image or script)."""

STATUS_COLOURS = {
    "completed": "#2e9d4b", "failed": "#d23c3c", "skipped": "#9a9a9a", "running": "#e0a21b",
    "interrupted": "#e0a21b", "pending": "#c8c8c8",
}

PAGE_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #1d1d1d; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
table.overview th { text-align: left; padding-right: 16px; color: #555; font-weight: 600; }
#timeline .lane { display: flex; align-items: center; height: 28px; }
#timeline .name { width: 230px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
#timeline .track { position: relative; flex: 1; height: 18px; background: #f1f1f1; border-radius: 3px; }
#timeline .bar { position: absolute; top: 0; bottom: 0; border-radius: 3px; }
#timeline .when { width: 170px; padding-left: 10px; color: #555; font-size: 12px; }
.facts { color: #555; font-size: 12px; } .summary { font-weight: 600; }
pre { background: #f7f7f7; padding: 10px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
pre.diff .add { color: #126b2a; background: #e6ffec; } pre.diff .del { color: #a40e26; background: #ffebe9; }
pre.diff .hunk { color: #6f42c1; } pre.diff .file { font-weight: 700; }
.warning { border-left: 4px solid #e0a21b; background: #fff8e5; padding: 8px 12px; }
details > summary { cursor: pointer; } details > summary h3 { display: inline; font-size: 15px; }
.markdown table { border-collapse: collapse; } .markdown td, .markdown th { border: 1px solid #ddd; padding: 3px 6px; }
"""
