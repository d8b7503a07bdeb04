//! Reading the files units actually send into rows of text with their line numbers: CSV (UTF-8
//! with or without BOM, CRLF or LF, separated by `,`, `;` — Excel's choice in a Vietnamese
//! locale — or TAB) and Excel `.xlsx` (the first sheet).
//!
//! Legacy Vietnamese encodings are refused, never guessed: bytes that are not UTF-8
//! (Windows-1258, TCVN3, VNI saved as "ANSI") and text that was mis-converted on its way to
//! UTF-8 (TCVN3 read as Windows-1252 turns `Nông Văn Đạt` into `N«ng V¨n §¹t`). Everything
//! here is pure: bytes in, rows or a problem with its line out.

use std::fmt;
use std::io::Cursor;

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
                push_row(&mut rows, line, record.iter().map(str::to_owned).collect());
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

fn read_xlsx(bytes: &[u8]) -> Result<Vec<SheetRow>, ReadProblem> {
    use calamine::{Data, Reader, Xlsx};
    let malformed = |detail: String| ReadProblem {
        line: 1,
        error: ReadError::Malformed(detail),
    };
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| malformed(e.to_string()))?;
    let Some(range) = workbook.worksheet_range_at(0) else {
        return Err(ReadProblem {
            line: 1,
            error: ReadError::Empty,
        });
    };
    let range = range.map_err(|e| malformed(e.to_string()))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut rows = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let line = first_row + i + 1;
        let mut fields = Vec::with_capacity(cells.len());
        for cell in cells {
            match cell {
                Data::Error(e) => {
                    return Err(ReadProblem {
                        line,
                        error: ReadError::Malformed(format!("ô lỗi / a cell holds an error: {e}")),
                    });
                }
                // Numbers typed into a cell (a phone, a staff id) come as floats: 912345678.0
                // shows as "912345678".
                other => fields.push(other.to_string()),
            }
        }
        push_row(&mut rows, line, fields);
    }
    Ok(rows)
}

/// Adds a row unless all its fields are empty.
fn push_row(rows: &mut Vec<SheetRow>, line: usize, fields: Vec<String>) {
    if fields.iter().all(|f| f.trim().is_empty()) {
        return;
    }
    rows.push(SheetRow { line, fields });
}

/// Latin-1 letters that Vietnamese uses; every other character of U+0080–U+00FF in a name is
/// the trace of a legacy file read as Windows-1252 (TCVN3's `«` `¨` `§` `¹`, VNI's `Ñ`, the
/// Eth `Ð` that Windows-1258 uses for `Đ`, `Ã´` of UTF-8 read twice…).
const VIETNAMESE_LATIN1: &str = "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý";

/// Windows-1252 characters outside Latin-1 that only mis-conversion puts in a name.
const CP1252_EXTRAS: &str = "ŒœŠšŸŽžƒˆ˜†‡‰‹›™€‚„";

/// The first character of `s` that betrays a mis-converted legacy file.
pub(crate) fn legacy_lookalike(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        let u = u32::from(c);
        let latin1_symbol = (0x80..=0xFF).contains(&u)
            && !VIETNAMESE_LATIN1.contains(c)
            // No-break space and soft hyphen come from copy and paste; rule R1 cleans them.
            && c != '\u{A0}'
            && c != '\u{AD}';
        latin1_symbol || CP1252_EXTRAS.contains(c)
    })
}

/// Refuses the file at its first line holding a look-alike.
fn check_lookalikes(rows: &[SheetRow]) -> Result<(), ReadProblem> {
    let mut first: Option<(usize, char, String)> = None;
    let mut more_lines = 0;
    for row in rows {
        let hit = row
            .fields
            .iter()
            .find_map(|f| legacy_lookalike(f).map(|c| (c, f.clone())));
        if let Some((found, text)) = hit {
            if first.is_none() {
                first = Some((row.line, found, text));
            } else {
                more_lines += 1;
            }
        }
    }
    match first {
        None => Ok(()),
        Some((line, found, text)) => Err(ReadProblem {
            line,
            error: ReadError::LegacyLookalike {
                found,
                text,
                more_lines,
            },
        }),
    }
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
}
