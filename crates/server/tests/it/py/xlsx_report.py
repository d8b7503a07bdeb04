"""Reads back the report's Excel workbook with openpyxl (Debian's /usr/bin/python3) and prints
JSON: the sheet names, every row of the report sheet, and each chart's type and title.

    /usr/bin/python3 xlsx_report.py REPORT.xlsx
"""
import json
import sys

import openpyxl

book = openpyxl.load_workbook(sys.argv[1])
sheet = book["Báo cáo"]
rows = [[c.value for c in row] for row in sheet.iter_rows()]
charts = []
for chart in sheet._charts:
    title = ""
    if chart.title is not None and chart.title.tx is not None and chart.title.tx.rich is not None:
        title = "".join(
            run.t for p in chart.title.tx.rich.p for run in (p.r or []) if run.t
        )
    charts.append({"type": chart.tagname, "title": title, "series": len(chart.series)})
print(json.dumps({"sheets": book.sheetnames, "rows": rows, "charts": charts}, ensure_ascii=False))
