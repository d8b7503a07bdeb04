//! The webmail's filters — rules ("from / to / subject contains TEXT → move, flag, forward,
//! discard") and the out-of-office reply — written as one Sieve script (RFC 5228), since an
//! account has one active script.
//!
//! The script is named [`RULES_SCRIPT`]. Its third line is a comment holding the form's data
//! as one line of JSON (`# hopthu-filters: {…}`), so the pages show again exactly what was
//! saved; the Sieve below it is generated from that data by [`filters_script`] (pure, every
//! string escaped) and never read back. A hand-written script (uploaded over ManageSieve) is
//! never overwritten without the caller saying so (`replace_other`).
//!
//! The out-of-office reply is a `vacation` action (RFC 5230: at most one reply per sender per
//! `:days`), limited to its dates by `currentdate` (RFC 5260) in Vietnam's time zone (+0700).

use serde::{Deserialize, Serialize};

use crate::{Core, Error, ErrorKind, Principal, Result};

/// The name of the script the webmail writes.
pub const RULES_SCRIPT: &str = "hopthu-rules";
/// The comment line that carries the form's data.
const DATA_PREFIX: &str = "# hopthu-filters: ";
/// Rules one account may have.
pub const MAX_RULES: usize = 100;

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleField {
    From,
    /// The To and Cc headers.
    To,
    Subject,
}

impl RuleField {
    pub fn parse(s: &str) -> Option<RuleField> {
        match s {
            "from" => Some(RuleField::From),
            "to" => Some(RuleField::To),
            "subject" => Some(RuleField::Subject),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleField::From => "from",
            RuleField::To => "to",
            RuleField::Subject => "subject",
        }
    }
}

/// What a rule does with a matching message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", content = "to", rename_all = "lowercase")]
pub enum RuleAction {
    /// File into this folder (its IMAP name); later rules are not applied.
    Move(String),
    /// Mark it flagged (`\Flagged`); later rules still apply.
    Flag,
    /// Forward to this address, keeping a copy (`redirect :copy`); later rules still apply.
    Forward(String),
    /// Throw it away; later rules are not applied.
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub field: RuleField,
    /// Matched as a substring, case-insensitively (`:contains`, `i;ascii-casemap`).
    pub contains: String,
    pub action: RuleAction,
}

/// The out-of-office reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vacation {
    pub enabled: bool,
    /// First day (`YYYY-MM-DD`, Vietnam time), if any.
    #[serde(default)]
    pub start: Option<String>,
    /// Last day, included.
    #[serde(default)]
    pub end: Option<String>,
    pub subject: String,
    pub text: String,
    /// At most one reply per sender per so many days.
    pub days: u32,
}

impl Default for Vacation {
    fn default() -> Self {
        Vacation {
            enabled: false,
            start: None,
            end: None,
            subject: "Thư trả lời tự động: vắng mặt".into(),
            text: "Xin chào,\n\nTôi hiện đang vắng mặt và sẽ trả lời thư của anh/chị khi trở lại.\n\nTrân trọng."
                .into(),
            days: 7,
        }
    }
}

/// Everything the rules and out-of-office pages edit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub vacation: Vacation,
}

impl Filters {
    /// Moves rule `index` one place up (`up`) or down; out of range does nothing.
    pub fn move_rule(&mut self, index: usize, up: bool) {
        let other = if up {
            index.checked_sub(1)
        } else {
            index.checked_add(1)
        };
        if let Some(other) = other
            && index < self.rules.len()
            && other < self.rules.len()
        {
            self.rules.swap(index, other);
        }
    }

    /// Removes rule `index`, if there is one.
    pub fn remove_rule(&mut self, index: usize) {
        if index < self.rules.len() {
            self.rules.remove(index);
        }
    }
}

/// A day as people type it in Vietnam (`dd/mm/yyyy`, also `d/m/yyyy` or `yyyy-mm-dd`), as
/// `YYYY-MM-DD`; `None` when it is no date.
pub fn parse_day(s: &str) -> Option<String> {
    let s = s.trim();
    let date = chrono::NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .ok()?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// `YYYY-MM-DD` shown as `dd/mm/yyyy`.
pub fn show_day(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// The filters of an account as the pages show them.
#[derive(Debug, Clone)]
pub struct FiltersState {
    pub filters: Filters,
    /// The webmail's script exists and is the active one.
    pub ours_active: bool,
    /// Another script (written over ManageSieve) is active: saving replaces it only when asked.
    pub other_active: Option<String>,
}

/// A string in Sieve's quoted form (RFC 5228 §2.4.2): `"` and `\` escaped, line breaks as LF,
/// other control characters dropped.
pub fn sieve_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.replace("\r\n", "\n").chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn valid_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() && s.len() == 10
}

/// Checks what a person typed; the message says what is wrong (Vietnamese / English).
pub fn validate(f: &Filters) -> std::result::Result<(), String> {
    if f.rules.len() > MAX_RULES {
        return Err(format!(
            "Tối đa {MAX_RULES} quy tắc / at most {MAX_RULES} rules"
        ));
    }
    for (i, r) in f.rules.iter().enumerate() {
        let n = i + 1;
        let text = r.contains.trim();
        if text.is_empty() || text.chars().count() > 200 {
            return Err(format!(
                "Quy tắc {n}: cần nội dung cần tìm (tối đa 200 ký tự) / rule {n}: the text to look for is needed (at most 200 characters)"
            ));
        }
        match &r.action {
            RuleAction::Move(folder) if folder.trim().is_empty() => {
                return Err(format!(
                    "Quy tắc {n}: hãy chọn thư mục / rule {n}: choose a folder"
                ));
            }
            RuleAction::Forward(to) if hopthu_model::EmailAddress::parse(to.trim()).is_err() => {
                return Err(format!(
                    "Quy tắc {n}: địa chỉ chuyển tiếp không hợp lệ / rule {n}: the forwarding address is not valid"
                ));
            }
            _ => {}
        }
    }
    let v = &f.vacation;
    for d in [&v.start, &v.end].into_iter().flatten() {
        if !valid_date(d) {
            return Err("Ngày không hợp lệ / invalid date".into());
        }
    }
    if let (Some(s), Some(e)) = (&v.start, &v.end)
        && e < s
    {
        return Err(
            "Ngày kết thúc trước ngày bắt đầu / the end date is before the start date".into(),
        );
    }
    if !(1..=365).contains(&v.days) {
        return Err(
            "Số ngày giữa hai lần trả lời: từ 1 đến 365 / days between replies: 1 to 365".into(),
        );
    }
    if v.subject.chars().count() > 200 || v.text.chars().count() > 10_000 {
        return Err("Tiêu đề hoặc nội dung quá dài / subject or text too long".into());
    }
    if v.enabled && v.text.trim().is_empty() {
        return Err("Hãy viết nội dung thư trả lời / write the reply's text".into());
    }
    Ok(())
}

/// The Sieve script for `f` (pure): the data line, the `require`, the out-of-office reply
/// first (every message may get one, whatever the rules do), then the rules in order.
pub fn filters_script(f: &Filters) -> String {
    let data = serde_json::to_string(f).unwrap_or_default();
    let mut body = String::new();
    let mut needs: Vec<&str> = Vec::new();
    let need = |ext: &'static str, needs: &mut Vec<&str>| {
        if !needs.contains(&ext) {
            needs.push(ext);
        }
    };
    let v = &f.vacation;
    if v.enabled {
        need("vacation", &mut needs);
        let mut tests = Vec::new();
        if let Some(start) = &v.start {
            tests.push(format!(
                "currentdate :zone \"+0700\" :value \"ge\" \"date\" {}",
                sieve_string(start)
            ));
        }
        if let Some(end) = &v.end {
            tests.push(format!(
                "currentdate :zone \"+0700\" :value \"le\" \"date\" {}",
                sieve_string(end)
            ));
        }
        let action = format!(
            "vacation :days {} :subject {} {};\n",
            v.days,
            sieve_string(&v.subject),
            sieve_string(&v.text)
        );
        if tests.is_empty() {
            body.push_str("# Vắng mặt / out of office\n");
            body.push_str(&action);
        } else {
            need("date", &mut needs);
            need("relational", &mut needs);
            body.push_str("# Vắng mặt / out of office\n");
            body.push_str(&format!(
                "if allof ({}) {{\n    {action}}}\n",
                tests.join(", ")
            ));
        }
    }
    for (i, r) in f.rules.iter().enumerate() {
        let header = match r.field {
            RuleField::From => "\"from\"",
            RuleField::To => "[\"to\", \"cc\"]",
            RuleField::Subject => "\"subject\"",
        };
        let action = match &r.action {
            RuleAction::Move(folder) => {
                need("fileinto", &mut needs);
                format!("fileinto {};\n    stop;", sieve_string(folder))
            }
            RuleAction::Flag => {
                need("imap4flags", &mut needs);
                "addflag \"\\\\Flagged\";".to_string()
            }
            RuleAction::Forward(to) => {
                need("copy", &mut needs);
                format!("redirect :copy {};", sieve_string(to.trim()))
            }
            RuleAction::Discard => "discard;\n    stop;".to_string(),
        };
        body.push_str(&format!(
            "# Quy tắc {} / rule {}\nif header :contains {header} {} {{\n    {action}\n}}\n",
            i + 1,
            i + 1,
            sieve_string(r.contains.trim())
        ));
    }
    let mut script = String::from(
        "# Bộ lọc do trang Cài đặt của webmail tạo; sửa ở đó. / Written by the webmail's settings; edit it there.\n\
         # Sửa tay ở đây sẽ mất khi lưu lại trên webmail. / Edits made here are lost when the webmail saves.\n",
    );
    script.push_str(DATA_PREFIX);
    script.push_str(&data);
    script.push('\n');
    if !needs.is_empty() {
        let list: Vec<String> = needs.iter().map(|e| format!("\"{e}\"")).collect();
        script.push_str(&format!("require [{}];\n", list.join(", ")));
    }
    script.push_str(&body);
    script
}

/// The form's data kept in a script written by [`filters_script`], if it is one.
pub fn filters_of_script(script: &str) -> Option<Filters> {
    script
        .lines()
        .take(8)
        .find_map(|l| l.strip_prefix(DATA_PREFIX))
        .and_then(|json| serde_json::from_str(json).ok())
}

impl Core {
    /// The account's filters as the rules and out-of-office pages show them.
    pub async fn web_filters(&self, who: &Principal) -> Result<FiltersState> {
        let scripts = self.sieve_scripts(who).await?;
        let ours = scripts.iter().find(|s| s.name == RULES_SCRIPT);
        let filters = match ours {
            Some(_) => match self.sieve_script(who, RULES_SCRIPT).await {
                Ok(text) => filters_of_script(&text).unwrap_or_default(),
                Err(e) if e.kind == ErrorKind::NotFound => Filters::default(),
                Err(e) => return Err(e),
            },
            None => Filters::default(),
        };
        Ok(FiltersState {
            filters,
            ours_active: ours.is_some_and(|s| s.active),
            other_active: scripts
                .iter()
                .find(|s| s.active && s.name != RULES_SCRIPT)
                .map(|s| s.name.clone()),
        })
    }

    /// The folders a rule may file into: the account's own (not the unit mailboxes shared
    /// with it), by IMAP name.
    pub async fn filter_folders(&self, who: &Principal) -> Result<Vec<String>> {
        Ok(self
            .mailboxes(who)
            .await?
            .into_iter()
            .map(|m| m.name)
            .filter(|n| !crate::shared::is_shared_name(n))
            .collect())
    }

    /// Saves the filters as the account's active script. Refused (`Forbidden`) while another
    /// script is active, unless `replace_other`; a folder that does not exist is refused
    /// (`Invalid`).
    pub async fn save_web_filters(
        &self,
        who: &Principal,
        filters: &Filters,
        replace_other: bool,
    ) -> Result<()> {
        validate(filters).map_err(|m| Error::new(ErrorKind::Invalid, m))?;
        let sieve = &self.config().sieve;
        let days = u64::from(filters.vacation.days);
        if days < sieve.vacation_min_days || days > sieve.vacation_max_days {
            let (min, max) = (sieve.vacation_min_days, sieve.vacation_max_days);
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "Số ngày giữa hai lần trả lời: từ {min} đến {max} / days between replies: {min} to {max}"
                ),
            ));
        }
        let folders = self.filter_folders(who).await?;
        for r in &filters.rules {
            if let RuleAction::Move(folder) = &r.action
                && !folders.contains(folder)
            {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    format!("Không có thư mục {folder} / there is no folder {folder}"),
                ));
            }
        }
        let state = self.web_filters(who).await?;
        if let Some(other) = &state.other_active
            && !replace_other
        {
            return Err(Error::new(
                ErrorKind::Forbidden,
                format!(
                    "Bộ lọc «{other}» đang hoạt động; hãy xác nhận để thay nó / the script «{other}» is active; confirm to replace it"
                ),
            ));
        }
        self.sieve_put(who, RULES_SCRIPT, &filters_script(filters))
            .await?;
        self.sieve_activate(who, Some(RULES_SCRIPT)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Filters {
        Filters {
            rules: vec![
                Rule {
                    field: RuleField::From,
                    contains: "sotttt@caobang.gov.vn".into(),
                    action: RuleAction::Move("Công văn \"đến\"".into()),
                },
                Rule {
                    field: RuleField::Subject,
                    contains: "khẩn \\ gấp".into(),
                    action: RuleAction::Flag,
                },
                Rule {
                    field: RuleField::To,
                    contains: "ketoan".into(),
                    action: RuleAction::Forward("ketoan@caobang.gov.vn".into()),
                },
                Rule {
                    field: RuleField::Subject,
                    contains: "quảng cáo".into(),
                    action: RuleAction::Discard,
                },
            ],
            vacation: Vacation {
                enabled: true,
                start: Some("2026-12-01".into()),
                end: Some("2026-12-31".into()),
                subject: "Vắng mặt \"nghỉ phép\"".into(),
                text: "Tôi nghỉ phép.\r\nLiên hệ: \\ phòng.\u{7}".into(),
                days: 3,
            },
        }
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(sieve_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(sieve_string("x\r\ny\u{0}z"), "\"x\nyz\"");
        assert_eq!(sieve_string("Tiếng Việt"), "\"Tiếng Việt\"");
    }

    #[test]
    fn the_script_has_every_rule_and_the_vacation() {
        let f = sample();
        let s = filters_script(&f);
        assert!(s.contains(
            "require [\"vacation\", \"date\", \"relational\", \"fileinto\", \"imap4flags\", \"copy\"];"
        ), "{s}");
        assert!(s.contains("currentdate :zone \"+0700\" :value \"ge\" \"date\" \"2026-12-01\""));
        assert!(s.contains("currentdate :zone \"+0700\" :value \"le\" \"date\" \"2026-12-31\""));
        assert!(s.contains("vacation :days 3 :subject \"Vắng mặt \\\"nghỉ phép\\\"\" \"Tôi nghỉ phép.\nLiên hệ: \\\\ phòng.\";"), "{s}");
        assert!(s.contains("if header :contains \"from\" \"sotttt@caobang.gov.vn\" {\n    fileinto \"Công văn \\\"đến\\\"\";\n    stop;\n}"), "{s}");
        assert!(s.contains("if header :contains \"subject\" \"khẩn \\\\ gấp\" {\n    addflag \"\\\\Flagged\";\n}"), "{s}");
        assert!(s.contains("if header :contains [\"to\", \"cc\"] \"ketoan\" {\n    redirect :copy \"ketoan@caobang.gov.vn\";\n}"));
        assert!(s.contains("discard;\n    stop;"));
        // The vacation comes before the rules.
        assert!(s.find("vacation :days").unwrap() < s.find("fileinto \"").unwrap());
    }

    #[test]
    fn the_form_data_round_trips_through_the_script() {
        let f = sample();
        let s = filters_script(&f);
        assert_eq!(filters_of_script(&s), Some(f));
        assert_eq!(filters_of_script("require \"fileinto\";\nkeep;\n"), None);
        // Nothing but comments for empty filters.
        let empty = filters_script(&Filters::default());
        assert!(!empty.contains("require"));
        assert_eq!(filters_of_script(&empty), Some(Filters::default()));
        // The data line stays one line whatever the text holds.
        assert_eq!(s.lines().filter(|l| l.starts_with(DATA_PREFIX)).count(), 1);
    }

    /// What the generator writes compiles with the compiler delivery uses.
    #[test]
    fn generated_scripts_compile() {
        let compile = |s: &str| {
            crate::sieve::compiler(65_536)
                .compile(s.as_bytes())
                .map(|_| ())
                .map_err(|e| format!("{e}: {s}"))
        };
        compile(&filters_script(&sample())).unwrap();
        compile(&filters_script(&Filters::default())).unwrap();
        let mut f = sample();
        f.vacation.start = None;
        f.vacation.subject = "\\\"\"}{ ${x} \r\n#".into();
        f.rules[0].contains = "\"; discard; #".into();
        compile(&filters_script(&f)).unwrap();
        let mut f = sample();
        f.vacation.end = None;
        f.rules.clear();
        compile(&filters_script(&f)).unwrap();
    }

    #[test]
    fn vacation_without_dates_is_always_on() {
        let f = Filters {
            rules: vec![],
            vacation: Vacation {
                enabled: true,
                ..Vacation::default()
            },
        };
        let s = filters_script(&f);
        assert!(s.contains("require [\"vacation\"];"), "{s}");
        assert!(s.contains("\nvacation :days 7 :subject"), "{s}");
        assert!(!s.contains("currentdate"));
    }

    #[test]
    fn days_and_rule_order() {
        assert_eq!(parse_day("05/12/2026").as_deref(), Some("2026-12-05"));
        assert_eq!(parse_day(" 5/1/2027 ").as_deref(), Some("2027-01-05"));
        assert_eq!(parse_day("2026-12-05").as_deref(), Some("2026-12-05"));
        assert_eq!(parse_day("31/02/2026"), None);
        assert_eq!(parse_day("hôm nay"), None);
        assert_eq!(show_day("2026-12-05"), "05/12/2026");
        let mut f = sample();
        let first = f.rules[0].clone();
        f.move_rule(0, true);
        assert_eq!(f.rules[0], first);
        f.move_rule(0, false);
        assert_eq!(f.rules[1], first);
        f.move_rule(3, false);
        f.move_rule(99, true);
        f.remove_rule(1);
        f.remove_rule(99);
        assert_eq!(f.rules.len(), 3);
        assert!(!f.rules.contains(&first));
    }

    #[test]
    fn validation_catches_what_a_person_can_get_wrong() {
        assert!(validate(&sample()).is_ok());
        let mut f = sample();
        f.rules[0].contains = "  ".into();
        assert!(validate(&f).is_err());
        let mut f = sample();
        f.rules[2].action = RuleAction::Forward("not an address".into());
        assert!(validate(&f).is_err());
        let mut f = sample();
        f.vacation.end = Some("2026-11-01".into());
        assert!(validate(&f).is_err());
        let mut f = sample();
        f.vacation.start = Some("01/12/2026".into());
        assert!(validate(&f).is_err());
        let mut f = sample();
        f.vacation.days = 0;
        assert!(validate(&f).is_err());
    }
}
