"""Writes a people sheet whose cells sit only at A1:B2 and XFD1048576: a reader that builds the
dense grid between the first and the last cell needs 17 billion cells.

    python3 xlsx_bomb.py OUT.xlsx UNIT_CODE
"""
import sys
import zipfile

from csv_to_xlsx import CONTENT_TYPES, RELS, WORKBOOK, WORKBOOK_RELS


def cell(ref, value):
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def main():
    target, unit = sys.argv[1], sys.argv[2]
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<dimension ref="A1:XFD1048576"/><sheetData>'
             f'<row r="1">{cell("A1", "full_name")}{cell("B1", "unit")}</row>'
             f'<row r="2">{cell("A2", "Nông Văn Đạt")}{cell("B2", unit)}</row>'
             f'<row r="1048576">{cell("XFD1048576", "x")}</row>'
             '</sheetData></worksheet>')
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)


if __name__ == "__main__":
    main()
