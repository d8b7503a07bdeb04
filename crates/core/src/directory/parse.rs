//! Reading the files units actually send into rows of text with their line numbers: CSV (UTF-8
//! with or without BOM, CRLF or LF, separated by `,`, `;` — Excel's choice in a Vietnamese
//! locale — or TAB) and Excel `.xlsx` (the first sheet).
//!
//! Legacy Vietnamese encodings are refused, never guessed: bytes that are not UTF-8
//! (Windows-1258, TCVN3, VNI saved as "ANSI") and text that was mis-converted on its way to
//! UTF-8 (TCVN3 read as Windows-1252 turns `Nông Văn Đạt` into `N«ng V¨n §¹t`). Look-alike
//! letters (`Ð`, `ð`, `Ñ`…) are not refused here: the address rules warn on their row (R4).
//! Everything
//! here is pure: bytes in, rows or a problem with its line out.
//!
//! Sizes are bounded before anything large is built: the file itself ([`MAX_FILE_BYTES`]), the
//! parts of an `.xlsx` once uncompressed ([`MAX_XLSX_UNCOMPRESSED`], so a zip bomb is refused
//! from the sizes the archive declares, which the zip reader enforces), the rows
//! ([`MAX_ROWS`]) and the columns ([`MAX_COLUMNS`]). A sheet is read cell by cell, never as
//! the dense grid between its first and its last cell (one cell at A1 and one at XFD1048576
//! would be 17 billion cells).

use std::fmt;
use std::io::Cursor;

/// The largest file read (CSV or `.xlsx`): a province's people file is a few megabytes.
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// The largest total of an `.xlsx`'s parts once uncompressed.
pub const MAX_XLSX_UNCOMPRESSED: u64 = 128 * 1024 * 1024;
/// The most rows (header included, empty rows not counted) a file may hold.
pub const MAX_ROWS: usize = 200_000;
/// The most columns a row may use (A to Z): the people file has nine.
pub const MAX_COLUMNS: usize = 26;

/// One row of a sheet: its line (CSV) or row number (Excel), 1-based, and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetRow {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Why a file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not UTF-8: a legacy encoding. `as_windows_1258` is the offending line read as
    /// Windows-1258, to help the operator recognise it.
    NotUtf8 { as_windows_1258: String },
    /// UTF-16 (Excel's "Unicode text").
    Utf16,
    /// UTF-8, but holding characters a mis-converted legacy file leaves behind.
    LegacyLookalike {
        found: char,
        text: String,
        /// Further lines of the file with such characters.
        more_lines: usize,
    },
    /// Nothing but an empty first sheet or empty lines.
    Empty,
    /// The CSV or the spreadsheet is malformed.
    Malformed(String),
    /// The file, its rows or its columns exceed the limits; the text says which.
    TooLarge(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotUtf8 { as_windows_1258 } => write!(
                f,
                "tệp không phải UTF-8 mà là một bảng mã cũ (Windows-1258, TCVN3, VNI); hãy lưu \
                 lại dạng \"CSV UTF-8\" / the file is not UTF-8 but a legacy encoding \
                 (Windows-1258, TCVN3, VNI); save it again as \"CSV UTF-8\" (read as \
                 Windows-1258 this line is {as_windows_1258:?})"
            ),
            ReadError::Utf16 => f.write_str(
                "tệp là UTF-16 (\"Unicode text\"); hãy lưu lại dạng \"CSV UTF-8\" / the file is \
                 UTF-16 (\"Unicode text\"); save it again as \"CSV UTF-8\"",
            ),
            ReadError::LegacyLookalike {
                found,
                text,
                more_lines,
            } => {
                write!(
                    f,
                    "văn bản có vẻ được chuyển sai từ bảng mã cũ (TCVN3/VNI/Windows-1258): {text:?} \
                     chứa {found:?} / the text looks mis-converted from a legacy encoding \
                     (TCVN3/VNI/Windows-1258): {text:?} holds {found:?} (U+{:04X})",
                    u32::from(*found)
                )?;
                if *more_lines > 0 {
                    write!(
                        f,
                        "; {more_lines} dòng khác cũng vậy / {more_lines} more lines alike"
                    )?;
                }
                Ok(())
            }
            ReadError::Empty => f.write_str("tệp trống / the file is empty"),
            ReadError::Malformed(detail) => {
                write!(f, "tệp hỏng / the file is malformed: {detail}")
            }
            ReadError::TooLarge(detail) => {
                write!(f, "tệp quá lớn / the file is too large: {detail}")
            }
        }
    }
}

/// A read failure at a line (1-based; 1 for the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadProblem {
    pub line: usize,
    pub error: ReadError,
}

/// Reads a CSV or `.xlsx` file (recognised by its content) into rows, the header first.
/// Rows whose fields are all empty are skipped; so are the empty fields after the last
/// column a row shares with the header.
pub(crate) fn read_sheet(bytes: &[u8]) -> Result<Vec<SheetRow>, ReadProblem> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(
            1,
            format!(
                "{} byte, tối đa {MAX_FILE_BYTES} / {} bytes, at most {MAX_FILE_BYTES}",
                bytes.len(),
                bytes.len()
            ),
        ));
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)?
    } else {
        let text = decode_text(bytes)?;
        read_csv(text)?
    };
    if rows.is_empty() {
        return Err(ReadProblem {
            line: 1,
            error: ReadError::Empty,
        });
    }
    check_lookalikes(&rows)?;
    Ok(rows)
}

/// The text of a CSV file: UTF-8, a BOM removed. Anything else is refused with its line.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<&str, ReadProblem> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ReadProblem {
            line: 1,
            error: ReadError::Utf16,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let bad = e.valid_up_to();
        let line_start = bytes[..bad]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = bytes[bad..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| bad + i);
        let line = bytes[..bad].iter().filter(|&&b| b == b'\n').count() + 1;
        let (text, _, _) = encoding_rs::WINDOWS_1258.decode(&bytes[line_start..line_end]);
        ReadProblem {
            line,
            error: ReadError::NotUtf8 {
                // Windows-1258 writes tone marks as combining characters: show them composed.
                as_windows_1258: hopthu_model::text::clean(&text),
            },
        }
    })
}

/// The separator of a CSV file, from its first line: `;` or TAB when the line has one of them
/// and no comma, else `,`.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    if first.contains(',') {
        b','
    } else if first.contains(';') {
        b';'
    } else if first.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

fn read_csv(text: &str) -> Result<Vec<SheetRow>, ReadProblem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record
                    .position()
                    .map_or(0, |p| lines.line_at(text, p.byte() as usize));
                // Empty fields after the last column (Excel writes the separators of every
                // column it ever formatted) are dropped; a value beyond it is refused.
                let used = (0..record.len())
                    .rev()
                    .find(|&i| !record[i].trim().is_empty())
                    .map_or(0, |i| i + 1);
                if used > MAX_COLUMNS {
                    return Err(too_many_columns(line, used));
                }
                // Only the columns kept are copied: a line of millions of separators costs
                // no more than one of 26.
                let fields = record.iter().take(MAX_COLUMNS).map(str::to_owned).collect();
                push_row(&mut rows, line, fields)?;
            }
            Err(e) => {
                let line = e.position().map_or(1, |p| p.line() as usize);
                return Err(ReadProblem {
                    line,
                    error: ReadError::Malformed(e.to_string()),
                });
            }
        }
    }
    Ok(rows)
}

/// Line numbers of records, counted forward as the reader moves on.
#[derive(Default)]
struct LineCounter {
    /// Bytes counted so far.
    at: usize,
    /// Line breaks before `at`.
    breaks: usize,
}

impl LineCounter {
    /// The 1-based line of the record starting at `byte` (never before the previous one). The
    /// csv reader's own line count (and sometimes its offset) lags behind at the previous line
    /// end, so the line breaks before the record are skipped first.
    fn line_at(&mut self, text: &str, byte: usize) -> usize {
        let bytes = text.as_bytes();
        let mut end = byte.clamp(self.at, bytes.len());
        while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        self.breaks += bytes[self.at..end].iter().filter(|&&b| b == b'\n').count();
        self.at = end;
        self.breaks + 1
    }
}

fn too_large(line: usize, detail: String) -> ReadProblem {
    ReadProblem {
        line,
        error: ReadError::TooLarge(detail),
    }
}

fn too_many_columns(line: usize, columns: usize) -> ReadProblem {
    too_large(
        line,
        format!(
            "dòng dùng {columns} cột, tối đa {MAX_COLUMNS} (A–Z) / the row uses {columns} \
             columns, at most {MAX_COLUMNS} (A to Z)"
        ),
    )
}

/// Refuses an archive whose parts would uncompress to more than [`MAX_XLSX_UNCOMPRESSED`]
/// (or hold more parts than a workbook does). The sizes are those of the central directory,
/// which the zip reader holds every part to (it fails past the declared size).
fn check_xlsx_sizes(bytes: &[u8]) -> Result<(), ReadProblem> {
    const MAX_PARTS: usize = 1000;
    let malformed = |detail: String| ReadProblem {
        line: 1,
        error: ReadError::Malformed(detail),
    };
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| malformed(e.to_string()))?;
    if archive.len() > MAX_PARTS {
        return Err(too_large(
            1,
            format!(
                "{} phần trong tệp nén, tối đa {MAX_PARTS} / {} parts in the archive, at most \
                 {MAX_PARTS}",
                archive.len(),
                archive.len()
            ),
        ));
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let part = archive
            .by_index_raw(i)
            .map_err(|e| malformed(e.to_string()))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_XLSX_UNCOMPRESSED {
        return Err(too_large(
            1,
            format!(
                "giải nén ra {total} byte, tối đa {MAX_XLSX_UNCOMPRESSED} / {total} bytes \
                 uncompressed, at most {MAX_XLSX_UNCOMPRESSED}"
            ),
        ));
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<SheetRow>, ReadProblem> {
    use calamine::{Data, DataRef, Reader, Xlsx};
    use std::collections::BTreeMap;
    let malformed = |detail: String| ReadProblem {
        line: 1,
        error: ReadError::Malformed(detail),
    };
    check_xlsx_sizes(bytes)?;
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| malformed(e.to_string()))?;
    let Some(first) = workbook.sheet_names().first().cloned() else {
        return Err(ReadProblem {
            line: 1,
            error: ReadError::Empty,
        });
    };
    let mut reader = workbook
        .worksheet_cells_reader(&first)
        .map_err(|e| malformed(e.to_string()))?;
    // The sheet's `<dimension>` is not trusted (it may lie, and formatting alone widens it):
    // every cell that holds something is checked as it is read.
    // Only the cells that hold something, by row: (column, text).
    let mut cells: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let (mut first_col, mut last_col) = (u32::MAX, 0);
    loop {
        let cell = match reader.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => return Err(malformed(e.to_string())),
        };
        let (row, col) = cell.get_position();
        let line = row as usize + 1;
        let value = cell.get_value();
        if *value == DataRef::Empty {
            continue;
        }
        if col as usize >= MAX_COLUMNS {
            return Err(too_many_columns(line, col as usize + 1));
        }
        if let DataRef::Error(e) = value {
            return Err(ReadProblem {
                line,
                error: ReadError::Malformed(format!("ô lỗi / a cell holds an error: {e}")),
            });
        }
        // Numbers typed into a cell (a phone, a staff id) come as floats: 912345678.0
        // shows as "912345678".
        let text = Data::from(value.clone()).to_string();
        if !cells.contains_key(&row) && cells.len() >= MAX_ROWS {
            return Err(too_many_rows(line));
        }
        first_col = first_col.min(col);
        last_col = last_col.max(col);
        cells.entry(row).or_default().push((col, text));
    }
    // Every row as wide as the sheet's used columns, like the grid a spreadsheet shows.
    let mut rows = Vec::with_capacity(cells.len());
    for (row, row_cells) in cells {
        let mut fields = vec![String::new(); (last_col - first_col) as usize + 1];
        for (col, text) in row_cells {
            fields[(col - first_col) as usize] = text;
        }
        push_row(&mut rows, row as usize + 1, fields)?;
    }
    Ok(rows)
}

fn too_many_rows(line: usize) -> ReadProblem {
    too_large(
        line,
        format!("quá {MAX_ROWS} dòng / more than {MAX_ROWS} rows"),
    )
}

/// Adds a row unless all its fields are empty; refuses the row past [`MAX_ROWS`].
fn push_row(rows: &mut Vec<SheetRow>, line: usize, fields: Vec<String>) -> Result<(), ReadProblem> {
    if fields.iter().all(|f| f.trim().is_empty()) {
        return Ok(());
    }
    if rows.len() >= MAX_ROWS {
        return Err(too_many_rows(line));
    }
    rows.push(SheetRow { line, fields });
    Ok(())
}

/// The first character of `s` that betrays a mis-converted legacy file
/// ([`hopthu_model::naming::is_legacy_trace`]).
fn legacy_lookalike(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| hopthu_model::naming::is_legacy_trace(c))
}

/// The first character of `s` that betrays a mis-converted legacy file and is not a letter
/// (`«`, `§`, `´`…): letters (`Ð`, `ð`, `Ñ`…) only earn a warning on their row (R4), since one
/// stray `Ð` is a typing slip a name survives, while these mean the whole file went wrong.
fn legacy_symbol(s: &str) -> Option<char> {
    s.chars()
        .find(|&c| hopthu_model::naming::is_legacy_trace(c) && !c.is_alphabetic())
}

/// Refuses the file at its first line holding a look-alike that is not a letter; the other
/// lines with any look-alike, letters included, are counted in the refusal.
fn check_lookalikes(rows: &[SheetRow]) -> Result<(), ReadProblem> {
    let hit = |row: &SheetRow, find: fn(&str) -> Option<char>| {
        row.fields
            .iter()
            .find_map(|f| find(f).map(|c| (c, f.clone())))
    };
    let Some((index, (found, text))) = rows
        .iter()
        .enumerate()
        .find_map(|(i, row)| hit(row, legacy_symbol).map(|h| (i, h)))
    else {
        return Ok(());
    };
    let more_lines = rows
        .iter()
        .enumerate()
        .filter(|&(i, row)| i != index && hit(row, legacy_lookalike).is_some())
        .count();
    Err(ReadProblem {
        line: rows[index].line,
        error: ReadError::LegacyLookalike {
            found,
            text,
            more_lines,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(bytes: &[u8]) -> Vec<(usize, Vec<String>)> {
        read_sheet(bytes)
            .unwrap()
            .into_iter()
            .map(|r| (r.line, r.fields))
            .collect()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn bom_and_crlf_read_like_plain_lf() {
        let plain = "kind,code,name,parent\ndepartment,D1,Sở Y tế,\ndepartment,D2,\"Sở Văn hóa, Thể thao và Du lịch\",\n";
        let windows = format!("\u{FEFF}{}", plain.replace('\n', "\r\n"));
        let want = vec![
            (1, strings(&["kind", "code", "name", "parent"])),
            (2, strings(&["department", "D1", "Sở Y tế", ""])),
            (
                3,
                strings(&["department", "D2", "Sở Văn hóa, Thể thao và Du lịch", ""]),
            ),
        ];
        assert_eq!(rows(plain.as_bytes()), want);
        assert_eq!(rows(windows.as_bytes()), want);
    }

    #[test]
    fn line_numbers_count_blank_lines_and_skip_empty_rows() {
        let text = "full_name,unit\n\nNông Văn Đạt,D1\n,\r\nHà Thị Hòa,D2";
        assert_eq!(
            rows(text.as_bytes()),
            vec![
                (1, strings(&["full_name", "unit"])),
                (3, strings(&["Nông Văn Đạt", "D1"])),
                (5, strings(&["Hà Thị Hòa", "D2"])),
            ]
        );
    }

    #[test]
    fn semicolons_and_tabs_are_recognised() {
        for sep in [";", "\t"] {
            let text = format!("full_name{sep}unit\nNông Văn Đạt{sep}D1\n");
            assert_eq!(
                rows(text.as_bytes())[1],
                (2, strings(&["Nông Văn Đạt", "D1"]))
            );
        }
    }

    #[test]
    fn windows_1258_is_refused_at_its_line() {
        // "Nông Văn Đạt" in Windows-1258: ô = F4, ă = E3, Đ = D0, ạ = a + F2 (dot below).
        let bytes = b"full_name,unit\nHa Thi Hoa,D1\nN\xF4ng V\xE3n \xD0a\xF2t,D1\n";
        let problem = read_sheet(bytes).unwrap_err();
        assert_eq!(problem.line, 3);
        match problem.error {
            ReadError::NotUtf8 { as_windows_1258 } => {
                assert_eq!(as_windows_1258, "Nông Văn Đạt,D1");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn utf16_is_refused() {
        let problem = read_sheet(b"\xFF\xFEf\0u\0").unwrap_err();
        assert_eq!((problem.line, problem.error), (1, ReadError::Utf16));
    }

    #[test]
    fn tcvn3_look_alikes_are_refused_at_the_first_line() {
        let text = "full_name,unit\nHà Thị Hòa,D1\nN«ng V¨n §¹t,D1\nHµ ThÞ Hßa,D1\n";
        let problem = read_sheet(text.as_bytes()).unwrap_err();
        assert_eq!(problem.line, 3);
        assert_eq!(
            problem.error,
            ReadError::LegacyLookalike {
                found: '«',
                text: "N«ng V¨n §¹t".into(),
                more_lines: 1
            }
        );
    }

    #[test]
    fn look_alike_letters_pass_to_the_rules() {
        let text = "full_name,unit\nNông Văn \u{00D0}ạt,D1\nNoâng Vaên Ñaït,D1\n";
        assert_eq!(rows(text.as_bytes()).len(), 3);
        // A symbol beside them still refuses the file.
        let text = "full_name,unit\nÑông V¨n,D1\n";
        assert_eq!(read_sheet(text.as_bytes()).unwrap_err().line, 2);
    }

    #[test]
    fn look_alikes() {
        for (text, want) in [
            ("Nông Văn Đạt", None),
            ("Nguyễn Thị Hoà", None),
            ("No\u{302}ng", None),
            ("Nông\u{A0}Văn", None),
            ("Ðạt", Some('Ð')),
            ("Noâng Vaên Ñaït", Some('Ñ')),
            ("NÃ´ng", Some('´')),
            ("N«ng", Some('«')),
            ("Nguyá»…n", Some('»')),
            ("Œ", Some('Œ')),
        ] {
            assert_eq!(legacy_lookalike(text), want, "{text}");
        }
    }

    #[test]
    fn empty_and_malformed_files() {
        assert_eq!(read_sheet(b"").unwrap_err().error, ReadError::Empty);
        assert_eq!(read_sheet(b"\n\n,,\n").unwrap_err().error, ReadError::Empty);
        let problem = read_sheet(b"PK\x03\x04garbage").unwrap_err();
        assert!(
            matches!(problem.error, ReadError::Malformed(_)),
            "{problem:?}"
        );
    }

    /// A minimal `.xlsx` (one sheet, inline strings) with `sheet_data` inside `<sheetData>`.
    pub(crate) fn xlsx(sheet_data: &str) -> Vec<u8> {
        xlsx_with(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.\
             openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{sheet_data}</sheetData>\
             </worksheet>"
        ))
    }

    /// A minimal `.xlsx` whose sheet part is `sheet`.
    pub(crate) fn xlsx_with(sheet: &str) -> Vec<u8> {
        use std::io::Write;
        let ns = "http://schemas.openxmlformats.org";
        let parts = [
            (
                "[Content_Types].xml",
                format!(
                    "<?xml version=\"1.0\"?><Types xmlns=\"{ns}/package/2006/content-types\">\
                     <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
                     <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
                     <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
                     <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"
                ),
            ),
            (
                "_rels/.rels",
                format!(
                    "<?xml version=\"1.0\"?><Relationships xmlns=\"{ns}/package/2006/relationships\">\
                     <Relationship Id=\"rId1\" Type=\"{ns}/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    "<?xml version=\"1.0\"?><workbook xmlns=\"{ns}/spreadsheetml/2006/main\" \
                     xmlns:r=\"{ns}/officeDocument/2006/relationships\"><sheets>\
                     <sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    "<?xml version=\"1.0\"?><Relationships xmlns=\"{ns}/package/2006/relationships\">\
                     <Relationship Id=\"rId1\" Type=\"{ns}/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
                ),
            ),
            ("xl/worksheets/sheet1.xml", sheet.to_owned()),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in parts {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn cell(at: &str, text: &str) -> String {
        format!("<c r=\"{at}\" t=\"inlineStr\"><is><t>{text}</t></is></c>")
    }

    #[test]
    fn xlsx_rows_are_read_cell_by_cell() {
        // Starts at B2, a gap row, an empty last cell: rows as wide as the sheet, and the
        // declared dimension (a whole sheet) is not believed.
        let data = format!(
            "<row r=\"2\">{}{}</row><row r=\"4\">{}<c r=\"C4\"/></row>",
            cell("B2", "full_name"),
            cell("C2", "unit"),
            cell("B4", "Nông Văn Đạt"),
        );
        let bytes = xlsx_with(&format!(
            "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/\
             spreadsheetml/2006/main\"><dimension ref=\"A1:XFD1048576\"/><sheetData>{data}\
             </sheetData></worksheet>"
        ));
        assert_eq!(
            rows(&bytes),
            vec![
                (2, strings(&["full_name", "unit"])),
                (4, strings(&["Nông Văn Đạt", ""])),
            ]
        );
    }

    /// Cells only at A1 and XFD1048576: calamine's dense grid would be 17 billion cells (the
    /// process aborted on the allocation). Refused at the far cell's line.
    #[test]
    fn xlsx_bomb_is_refused_at_its_line() {
        let bytes = xlsx(&format!(
            "<row r=\"1\">{}</row><row r=\"1048576\">{}</row>",
            cell("A1", "full_name"),
            cell("XFD1048576", "x")
        ));
        let problem = read_sheet(&bytes).unwrap_err();
        assert_eq!(problem.line, 1_048_576, "{problem:?}");
        assert!(
            matches!(&problem.error, ReadError::TooLarge(t) if t.contains("16384 columns")),
            "{problem:?}"
        );
        // Far rows alone are no grid either: two rows, read as two.
        let bytes = xlsx(&format!(
            "<row r=\"1\">{}</row><row r=\"1048576\">{}</row>",
            cell("A1", "full_name"),
            cell("A1048576", "x")
        ));
        assert_eq!(
            rows(&bytes),
            vec![(1, strings(&["full_name"])), (1_048_576, strings(&["x"]))]
        );
    }

    /// The offset of the `n`th central directory header of a zip.
    fn central_header(bytes: &[u8], name: &str) -> usize {
        let mut at = 0;
        loop {
            let i = at
                + bytes[at..]
                    .windows(4)
                    .position(|w| w == b"PK\x01\x02")
                    .expect("central header");
            let name_len = u16::from_le_bytes([bytes[i + 28], bytes[i + 29]]) as usize;
            if &bytes[i + 46..i + 46 + name_len] == name.as_bytes() {
                return i;
            }
            at = i + 4;
        }
    }

    /// A part that declares more than the limit uncompressed is refused before it is read; one
    /// that uncompresses past what it declares fails as malformed (the zip reader stops).
    #[test]
    fn xlsx_zip_bomb_is_refused_from_its_declared_sizes() {
        let good = xlsx(&format!("<row r=\"1\">{}</row>", cell("A1", "unit")));
        let at = central_header(&good, "xl/worksheets/sheet1.xml");
        let mut bomb = good.clone();
        bomb[at + 24..at + 28].copy_from_slice(&(u32::MAX - 1).to_le_bytes());
        let problem = read_sheet(&bomb).unwrap_err();
        assert!(
            matches!(&problem.error, ReadError::TooLarge(t) if t.contains("uncompressed")),
            "{problem:?}"
        );
        let mut liar = good;
        liar[at + 24..at + 28].copy_from_slice(&10u32.to_le_bytes());
        let problem = read_sheet(&liar).unwrap_err();
        assert!(
            matches!(problem.error, ReadError::Malformed(_)),
            "{problem:?}"
        );
    }

    #[test]
    fn csv_columns_and_rows_are_bounded() {
        // Separators of formatted but empty columns are fine; a value in column 27 is not.
        let wide_empty = format!("full_name,unit{}\nNông Văn Đạt,D1\n", ",".repeat(5000));
        assert_eq!(
            rows(wide_empty.as_bytes())[1].1,
            strings(&["Nông Văn Đạt", "D1"])
        );
        let wide = format!("full_name,unit\nNông Văn Đạt,D1{},x\n", ",".repeat(24));
        let problem = read_sheet(wide.as_bytes()).unwrap_err();
        assert_eq!(problem.line, 2);
        assert!(
            matches!(&problem.error, ReadError::TooLarge(t) if t.contains("27 columns")),
            "{problem:?}"
        );
        let mut long = String::from("unit\n");
        for i in 0..MAX_ROWS {
            long.push_str(&format!("D{i}\n"));
        }
        let problem = read_sheet(long.as_bytes()).unwrap_err();
        assert_eq!(problem.line, MAX_ROWS + 1);
        assert!(matches!(problem.error, ReadError::TooLarge(_)));
        let huge = vec![b'x'; MAX_FILE_BYTES + 1];
        let problem = read_sheet(&huge).unwrap_err();
        assert_eq!(problem.line, 1);
        assert!(matches!(problem.error, ReadError::TooLarge(_)));
    }

    /// Mutated CSV and `.xlsx` files (the sheet XML mutated before zipping, and the zip bytes
    /// themselves) through the reader and the column checks of both files: an error or rows,
    /// never a panic.
    #[test]
    fn fuzz_csv_and_xlsx() {
        use super::super::files::{person_rows, unit_rows};
        const CSV: &[&[u8]] = &[
            "full_name,unit,position,staff_id,phone,email,public,head\r\nNông Văn Đạt,D1,Giám đốc,001,0912345678,,có,x\r\n\"Hà, Thị\"\"Hòa\",D2,,,,hoa@caobang.gov.vn,không,\r\n".as_bytes(),
            "\u{FEFF}kind;code;name;parent;local\nprovince;P;UBND tỉnh;;\ndepartment;D1;Sở Y tế;P;soyte\n".as_bytes(),
            b"full_name\tunit\nN\xF4ng V\xE3n\tD1\n",
        ];
        const DICTIONARY: &[&[u8]] = &[
            b",",
            b";",
            b"\t",
            b"\"",
            b"\r\n",
            b"\n",
            b"\r",
            b"\xEF\xBB\xBF",
            b"\xFF\xFE",
            "«".as_bytes(),
            "Đ".as_bytes(),
            b"\xC3",
            b"=1+1",
            b"PK\x03\x04",
        ];
        const XML_DICTIONARY: &[&[u8]] = &[
            b"<c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c>",
            b"<c r=\"A1\" t=\"s\"><v>99</v></c>",
            b"<c r=\"B2\" t=\"e\"><v>#REF!</v></c>",
            b"<row r=\"0\">",
            b"</row>",
            b"<c r=\"ZZZZ9\"><v>1e308</v></c>",
            b"&amp;",
            b"&#0;",
            b"<![CDATA[",
            b"<c t=\"d\"><v>2026-13-45</v></c>",
            b"<c t=\"b\"><v>2</v></c>",
        ];
        let sheet = format!(
            "<row r=\"1\">{}{}</row><row r=\"2\">{}<c r=\"B2\"><v>912345678</v></c></row>",
            cell("A1", "full_name"),
            cell("B1", "unit"),
            cell("A2", "Nông Văn Đạt")
        );
        let good_xlsx = xlsx(&sheet);
        hopthu_fuzz::run("directory files", 1500, |rng| {
            let bytes = match rng.below(3) {
                0 => {
                    let sample = *rng.pick(CSV);
                    hopthu_fuzz::mutate(rng, sample, DICTIONARY)
                }
                1 => {
                    let xml = hopthu_fuzz::mutate(rng, sheet.as_bytes(), XML_DICTIONARY);
                    xlsx(&String::from_utf8_lossy(&xml))
                }
                _ => hopthu_fuzz::mutate(rng, &good_xlsx, &[]),
            };
            match read_sheet(&bytes) {
                Ok(rows) => {
                    // The faults' texts are what an operator reads: make them too.
                    let texts = |faults: Vec<(usize, super::super::files::RowFault)>| {
                        faults
                            .iter()
                            .map(|(_, f)| f.to_string())
                            .collect::<Vec<_>>()
                    };
                    let _ = unit_rows(&rows, "caobang.gov.vn").map_err(texts);
                    let _ = person_rows(&rows, "caobang.gov.vn").map_err(texts);
                }
                Err(problem) => {
                    let _ = problem.error.to_string();
                }
            }
        });
    }

    /// Found by a longer run: a cell reference of many letters (`r="inlineStr"`) overflowed
    /// calamine 0.38's column arithmetic (a panic in debug builds, a wrapped column in
    /// release ones). Built without overflow checks (Cargo.toml): refused, not a panic.
    #[test]
    fn overlong_cell_reference_is_refused() {
        let bytes: &[u8] = include_bytes!("../fuzz-cases/calamine-cell-reference-overflow.xlsx");
        let problem = read_sheet(bytes).expect_err("no such column");
        assert!(
            matches!(
                problem.error,
                ReadError::TooLarge(_) | ReadError::Malformed(_)
            ),
            "{problem:?}"
        );
    }
}
