//! The columns of the import files and what is wrong with a row, in Vietnamese and English.
//!
//! Units: `kind,code,name,parent` (+ optional `email` or `local`, an operator's override).
//! People: `full_name,unit` (+ optional `position,staff_id,phone,email` or `local`, `public`,
//! `head`). Header names are matched trimmed and case-insensitively, in any order; a missing
//! required column or an unknown one refuses the file at its header (line 1).

use std::collections::HashMap;
use std::fmt;

use hopthu_model::naming::{NameError, RowErrorReason, Table};
use hopthu_model::text::{clean, search_fold};

use super::parse::{ReadError, SheetRow};

/// The columns of the units file.
pub const UNIT_COLUMNS: Columns = Columns {
    required: &["kind", "code", "name", "parent"],
    optional: &["email", "local"],
};

/// The columns of the people file.
pub const PEOPLE_COLUMNS: Columns = Columns {
    required: &["full_name", "unit"],
    optional: &[
        "position", "staff_id", "phone", "email", "local", "public", "head",
    ],
};

/// The column set of one kind of file.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Columns {
    fn describe(&self) -> String {
        let mut s = self.required.join(",");
        if !self.optional.is_empty() {
            s.push_str(" [");
            s.push_str(&self.optional.join(","));
            s.push(']');
        }
        s
    }
}

/// Why a row (or the whole file, at line 1) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowFault {
    /// The file cannot be read (encoding, format).
    Read(ReadError),
    /// The header does not have the expected columns.
    Columns {
        expected: String,
        found: String,
        missing: Vec<String>,
        unknown: Vec<String>,
    },
    /// A row has more or fewer fields than the header.
    FieldCount { found: usize, expected: usize },
    /// A yes/no column holds something else.
    BadFlag { column: &'static str, value: String },
    /// An `email` override in another domain.
    OverrideDomain { value: String, domain: String },
    /// Both `email` and `local` are filled in.
    BothOverrides,
    /// Two rows with the same staff id.
    DuplicateStaffId { staff_id: String, first_line: usize },
    /// A second head for the same unit.
    SecondHead { unit: String, first_line: usize },
    /// The unit has a head already; a handover is a separate step (Đ12).
    HasHead { unit: String },
    /// The person is in the directory with another address, which is never changed.
    PersonAddressed { address: String },
    /// The address rules refuse the row.
    Rule(RowErrorReason),
}

impl fmt::Display for RowFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowFault::Read(e) => e.fmt(f),
            RowFault::Columns {
                expected,
                found,
                missing,
                unknown,
            } => {
                write!(
                    f,
                    "sai bộ cột / wrong columns: expected {expected}, found {found}"
                )?;
                if !missing.is_empty() {
                    write!(f, "; thiếu / missing: {}", missing.join(","))?;
                }
                if !unknown.is_empty() {
                    write!(f, "; không rõ / unknown: {}", unknown.join(","))?;
                }
                Ok(())
            }
            RowFault::FieldCount { found, expected } => write!(
                f,
                "dòng có {found} trường, tiêu đề có {expected} / the row has {found} fields, the \
                 header {expected}"
            ),
            RowFault::BadFlag { column, value } => write!(
                f,
                "cột {column}: {value:?} không phải có/không / column {column}: {value:?} is not \
                 yes/no (1/0, x, có/không)"
            ),
            RowFault::OverrideDomain { value, domain } => write!(
                f,
                "địa chỉ {value} không thuộc miền {domain} / the address {value} is not in the \
                 domain {domain}"
            ),
            RowFault::BothOverrides => f.write_str(
                "chỉ điền một trong hai cột email và local / fill in email or local, not both",
            ),
            RowFault::DuplicateStaffId {
                staff_id,
                first_line,
            } => write!(
                f,
                "mã cán bộ {staff_id} trùng với dòng {first_line} / staff id {staff_id} repeats \
                 line {first_line}"
            ),
            RowFault::SecondHead { unit, first_line } => write!(
                f,
                "đơn vị {unit} đã có thủ trưởng ở dòng {first_line} / unit {unit} already has \
                 its head on line {first_line}"
            ),
            RowFault::HasHead { unit } => write!(
                f,
                "đơn vị {unit} đã có thủ trưởng; bàn giao là một bước riêng / unit {unit} already \
                 has a head; a handover is a separate step"
            ),
            RowFault::PersonAddressed { address } => write!(
                f,
                "người này đã có địa chỉ {address}, địa chỉ đã cấp không thay đổi / this person \
                 already has the address {address}; an address once given is not changed"
            ),
            RowFault::Rule(reason) => write!(f, "{} / {reason}", rule_in_vietnamese(reason)),
        }
    }
}

/// The Vietnamese half of an address-rule refusal.
fn rule_in_vietnamese(reason: &RowErrorReason) -> &'static str {
    match reason {
        RowErrorReason::UnknownKind { .. } => "loại đơn vị không có trong cấu hình",
        RowErrorReason::EmptyCode => "mã đơn vị trống",
        RowErrorReason::DuplicateCode { .. } => "mã đơn vị bị lặp",
        RowErrorReason::EmptyName | RowErrorReason::Name(NameError::Empty) => "tên trống",
        RowErrorReason::OnlyKindWord { .. } => "tên chỉ có từ chỉ loại đơn vị",
        RowErrorReason::NoLetters | RowErrorReason::Name(NameError::NoLatinLetters) => {
            "tên không có chữ cái dùng được trong địa chỉ"
        }
        RowErrorReason::Name(NameError::ForbiddenCharacter { .. }) => {
            "tên có ký tự không được phép"
        }
        RowErrorReason::UnknownParent { .. } => "mã đơn vị cấp trên không tồn tại",
        RowErrorReason::ParentNotDistrict { .. } => "đơn vị cấp trên của phòng không phải huyện",
        RowErrorReason::MissingParent => "phòng phải có huyện làm đơn vị cấp trên",
        RowErrorReason::UnknownUnit { .. } => "mã đơn vị không tồn tại",
        RowErrorReason::BadOverride { .. } => "địa chỉ chỉ định không hợp lệ",
        RowErrorReason::OverrideTaken { .. } => "địa chỉ chỉ định đã được dùng",
        RowErrorReason::AlreadyAddressed { .. } => "đơn vị đã có địa chỉ, không thay đổi",
        _ => "dòng không hợp lệ",
    }
}

/// A refused row: the file it is in, its line, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// Units or people.
    pub file: Table,
    /// The file's name as the operator gave it.
    pub source: String,
    /// 1-based; the header is line 1.
    pub line: usize,
    pub fault: RowFault,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.fault)
    }
}

/// One row of the units file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitRow {
    pub line: usize,
    pub kind: String,
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    /// An operator's override of the local part.
    pub local: Option<String>,
}

/// One row of the people file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonRow {
    pub line: usize,
    pub full_name: String,
    pub unit: String,
    pub position: Option<String>,
    pub staff_id: Option<String>,
    pub phone: Option<String>,
    pub local: Option<String>,
    pub public: bool,
    pub head: bool,
}

/// The header's column positions.
struct Header(HashMap<String, usize>, usize);

impl Header {
    fn read(rows: &[SheetRow], columns: Columns) -> Result<Header, (usize, RowFault)> {
        let Some(header) = rows.first() else {
            return Err((1, RowFault::Read(ReadError::Empty)));
        };
        let names: Vec<String> = header
            .fields
            .iter()
            .map(|f| f.trim().trim_start_matches('\u{FEFF}').to_lowercase())
            .collect();
        // Trailing empty header cells (a spreadsheet's formatting) are not columns.
        let width = names
            .iter()
            .rposition(|n| !n.is_empty())
            .map_or(0, |i| i + 1);
        let names = &names[..width];
        let mut index = HashMap::new();
        let mut unknown = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let known = columns.required.contains(&name.as_str())
                || columns.optional.contains(&name.as_str());
            if !known || index.insert(name.clone(), i).is_some() {
                unknown.push(if name.is_empty() {
                    format!("(cột {} trống / column {} empty)", i + 1, i + 1)
                } else {
                    name.clone()
                });
            }
        }
        let missing: Vec<String> = columns
            .required
            .iter()
            .filter(|c| !index.contains_key(**c))
            .map(|c| (*c).to_owned())
            .collect();
        if !missing.is_empty() || !unknown.is_empty() {
            return Err((
                header.line,
                RowFault::Columns {
                    expected: columns.describe(),
                    found: names.join(","),
                    missing,
                    unknown,
                },
            ));
        }
        Ok(Header(index, width))
    }

    /// The rows after the header, each checked for its field count.
    fn records<'r>(
        &self,
        rows: &'r [SheetRow],
        faults: &mut Vec<(usize, RowFault)>,
    ) -> Vec<Record<'r, '_>> {
        let mut out = Vec::new();
        for row in &rows[1..] {
            let width = row
                .fields
                .iter()
                .rposition(|f| !f.is_empty())
                .map_or(0, |i| i + 1);
            if row.fields.len() < self.1 || width > self.1 {
                faults.push((
                    row.line,
                    RowFault::FieldCount {
                        found: row.fields.len().max(width),
                        expected: self.1,
                    },
                ));
                continue;
            }
            out.push(Record { row, header: self });
        }
        out
    }
}

struct Record<'r, 'h> {
    row: &'r SheetRow,
    header: &'h Header,
}

impl Record<'_, '_> {
    /// The cleaned field of a column; empty when the column is absent.
    fn get(&self, column: &str) -> String {
        self.header
            .0
            .get(column)
            .and_then(|&i| self.row.fields.get(i))
            .map(|f| clean(f))
            .unwrap_or_default()
    }

    fn optional(&self, column: &str) -> Option<String> {
        Some(self.get(column)).filter(|v| !v.is_empty())
    }

    /// `email` (`local@domain`, the domain must be ours) or `local`.
    fn override_local(&self, domain: &str) -> Result<Option<String>, RowFault> {
        match (self.optional("email"), self.optional("local")) {
            (Some(_), Some(_)) => Err(RowFault::BothOverrides),
            (None, local) => Ok(local),
            (Some(email), None) => match email.rsplit_once('@') {
                None => Ok(Some(email)),
                Some((local, d)) if d.eq_ignore_ascii_case(domain) => Ok(Some(local.to_owned())),
                Some(_) => Err(RowFault::OverrideDomain {
                    value: email,
                    domain: domain.to_owned(),
                }),
            },
        }
    }

    fn flag(&self, column: &'static str) -> Result<bool, RowFault> {
        let value = self.get(column);
        match search_fold(&value).as_str() {
            "" | "0" | "n" | "no" | "khong" | "false" => Ok(false),
            "1" | "x" | "y" | "yes" | "co" | "true" => Ok(true),
            _ => Err(RowFault::BadFlag { column, value }),
        }
    }
}

/// The rows of a units file, or every fault with its line.
pub(crate) fn unit_rows(
    rows: &[SheetRow],
    domain: &str,
) -> Result<Vec<UnitRow>, Vec<(usize, RowFault)>> {
    let header = Header::read(rows, UNIT_COLUMNS).map_err(|f| vec![f])?;
    let mut faults = Vec::new();
    let mut out = Vec::new();
    for record in header.records(rows, &mut faults) {
        let line = record.row.line;
        match record.override_local(domain) {
            Ok(local) => out.push(UnitRow {
                line,
                kind: record.get("kind"),
                code: record.get("code"),
                name: record.get("name"),
                parent: record.optional("parent"),
                local,
            }),
            Err(fault) => faults.push((line, fault)),
        }
    }
    if faults.is_empty() {
        Ok(out)
    } else {
        Err(faults)
    }
}

/// The rows of a people file, or every fault with its line.
pub(crate) fn person_rows(
    rows: &[SheetRow],
    domain: &str,
) -> Result<Vec<PersonRow>, Vec<(usize, RowFault)>> {
    let header = Header::read(rows, PEOPLE_COLUMNS).map_err(|f| vec![f])?;
    let mut faults = Vec::new();
    let mut out = Vec::new();
    let mut staff_ids: HashMap<String, usize> = HashMap::new();
    let mut heads: HashMap<String, usize> = HashMap::new();
    for record in header.records(rows, &mut faults) {
        let line = record.row.line;
        let parsed = (|| {
            let row = PersonRow {
                line,
                full_name: record.get("full_name"),
                unit: record.get("unit"),
                position: record.optional("position"),
                staff_id: record.optional("staff_id"),
                phone: record.optional("phone"),
                local: record.override_local(domain)?,
                public: record.flag("public")?,
                head: record.flag("head")?,
            };
            if let Some(id) = &row.staff_id
                && let Some(&first_line) = staff_ids.get(id)
            {
                return Err(RowFault::DuplicateStaffId {
                    staff_id: id.clone(),
                    first_line,
                });
            }
            if row.head
                && let Some(&first_line) = heads.get(&row.unit)
            {
                return Err(RowFault::SecondHead {
                    unit: row.unit.clone(),
                    first_line,
                });
            }
            Ok(row)
        })();
        match parsed {
            Ok(row) => {
                if let Some(id) = &row.staff_id {
                    staff_ids.insert(id.clone(), line);
                }
                if row.head {
                    heads.insert(row.unit.clone(), line);
                }
                out.push(row);
            }
            Err(fault) => faults.push((line, fault)),
        }
    }
    if faults.is_empty() {
        Ok(out)
    } else {
        faults.sort_by_key(|(line, _)| *line);
        Err(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::read_sheet;
    use super::*;

    const DOMAIN: &str = "caobang.gov.vn";

    #[test]
    fn unit_columns_in_any_order_with_an_override() {
        let rows = read_sheet(
            "Code,Kind,Name,Parent,Email\nD1,department,Sở Y tế,,\nD2,department,Sở Nội vụ,,noivu@caobang.gov.vn\n"
                .as_bytes(),
        )
        .unwrap();
        let units = unit_rows(&rows, DOMAIN).unwrap();
        assert_eq!(units[0].code, "D1");
        assert_eq!(units[0].parent, None);
        assert_eq!(units[1].local.as_deref(), Some("noivu"));
        assert_eq!(units[1].line, 3);
    }

    #[test]
    fn wrong_column_sets_are_refused_at_the_header() {
        for text in [
            "kind,code,name\nx,y,z\n",
            "kind,code,name,parent,colour\nx,y,z,,red\n",
            "kind,code,name,parent,code\nx,y,z,,y\n",
        ] {
            let rows = read_sheet(text.as_bytes()).unwrap();
            let faults = unit_rows(&rows, DOMAIN).unwrap_err();
            assert_eq!(faults.len(), 1, "{text}");
            assert_eq!(faults[0].0, 1);
            assert!(
                matches!(faults[0].1, RowFault::Columns { .. }),
                "{faults:?}"
            );
        }
    }

    #[test]
    fn people_rows_with_flags_and_faults() {
        let text = "full_name,unit,position,staff_id,phone,public,head,local\n\
                    Nông Văn Đạt,D1,Giám đốc,S1,0912345678,có,x,\n\
                    Hà Thị Hòa,D1,,S2,,0,,hoaht\n\
                    Hà Thị Hòa,D1,,S1,,,,\n\
                    Lý A Sần,D1,,,,maybe,,\n\
                    Lý A Sần,D1,,,,,1,\n\
                    Lý A Sần,D1\n";
        let rows = read_sheet(text.as_bytes()).unwrap();
        let faults = person_rows(&rows, DOMAIN).unwrap_err();
        let lines: Vec<usize> = faults.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [4, 5, 6, 7], "{faults:?}");
        assert!(matches!(
            faults[0].1,
            RowFault::DuplicateStaffId { first_line: 2, .. }
        ));
        assert!(matches!(
            faults[1].1,
            RowFault::BadFlag {
                column: "public",
                ..
            }
        ));
        assert!(matches!(
            faults[2].1,
            RowFault::SecondHead { first_line: 2, .. }
        ));
        assert!(matches!(
            faults[3].1,
            RowFault::FieldCount {
                found: 2,
                expected: 8
            }
        ));

        let ok = read_sheet(
            "full_name,unit,public,email\nNông Văn Đạt,D1,x,\nHà Thị Hòa,D1,,hoa@caobang.gov.vn\n"
                .as_bytes(),
        )
        .unwrap();
        let people = person_rows(&ok, DOMAIN).unwrap();
        assert!(people[0].public && !people[1].public);
        assert_eq!(people[1].local.as_deref(), Some("hoa"));
    }

    #[test]
    fn override_in_another_domain_is_refused() {
        let rows = read_sheet("full_name,unit,email\nNông Văn Đạt,D1,datnv@gmail.com\n".as_bytes())
            .unwrap();
        let faults = person_rows(&rows, DOMAIN).unwrap_err();
        assert!(matches!(faults[0].1, RowFault::OverrideDomain { .. }));
    }
}
