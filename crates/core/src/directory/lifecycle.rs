//! The lifecycle of personal mailboxes (Đ8) as change requests: a unit IT officer files one
//! (new hire, transfer in, transfer between units, resignation, death, retirement, transfer out,
//! re-issue), the focal unit approves or rejects it, and approval applies it: a new mailbox by
//! the address rules, a move, a revocation (no sign-in, no delivery, data and address kept) or a
//! re-issue (everything back, a fresh one-time password). Every event except a revocation the
//! unit asked for itself produces a written notice to the unit (`notice.rs`).
//!
//! A new hire is created through the import services (the same rules, the same one
//! transaction), then the request is marked approved with its audit row. Should the process stop
//! in between, approving again finds the person already created (matched by staff id or name
//! and unit) and only records the decision: nothing is created twice.

use std::sync::Arc;

use hopthu_model::{PersonId, UnitId};
use hopthu_store::{
    ChangeRecord, ChangeState, Decision, LifecycleEffect, LifecycleWrite, NewChange, NewNotice,
    NoticeRecord, StoreError,
};
use serde::{Deserialize, Serialize};

use super::notice::{self, NoticeContent, NoticeKind, NoticeLine};
use super::{
    Credential, ImportRequest, ImportSource, MailboxKind, PersonRecord, PersonState, RowStatus,
    UnitRecord,
};
use crate::{
    Actor, Core, Envelope, Error, ErrorKind, NewAudit, Result, Secret, generate_password, now,
};

/// What a change request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Tuyển dụng mới: a new mailbox in the unit.
    NewHire,
    /// Chuyển đến: someone arriving from outside the province's system.
    TransferIn,
    /// Điều chuyển: the person moves to another unit; address and mailbox stay.
    Transfer,
    /// Thôi việc.
    Resignation,
    /// Từ trần.
    Death,
    /// Nghỉ hưu.
    Retirement,
    /// Chuyển công tác ra ngoài.
    TransferOut,
    /// Cấp lại: a revoked mailbox comes back.
    Reissue,
    /// Thay đổi lãnh đạo đơn vị: the person becomes the head of the unit and owner of its
    /// mailbox (Đ12.3); the former head's and every delegate's rights end.
    HeadChange,
    /// Cập nhật thông tin: name, position, phone, publication; the address stays (Đ7.3) unless
    /// the focal unit asks for a new one, and then the old one becomes an alias of it.
    Update,
    /// Thành lập đơn vị: a new unit with its mailbox.
    UnitCreate,
    /// Đổi tên đơn vị: a new name, and the address its rules give (the old one an alias).
    UnitRename,
    /// Chuyển đơn vị: a new parent; the address stays.
    UnitMove,
    /// Hợp nhất đơn vị: people, units, mailbox contents and address go to another unit.
    UnitMerge,
    /// Giải thể đơn vị: an empty unit leaves the directory; its mailbox is revoked.
    UnitDissolve,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 15] = [
        ChangeKind::NewHire,
        ChangeKind::TransferIn,
        ChangeKind::Transfer,
        ChangeKind::Resignation,
        ChangeKind::Death,
        ChangeKind::Retirement,
        ChangeKind::TransferOut,
        ChangeKind::Reissue,
        ChangeKind::HeadChange,
        ChangeKind::Update,
        ChangeKind::UnitCreate,
        ChangeKind::UnitRename,
        ChangeKind::UnitMove,
        ChangeKind::UnitMerge,
        ChangeKind::UnitDissolve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::NewHire => "new_hire",
            ChangeKind::TransferIn => "transfer_in",
            ChangeKind::Transfer => "transfer",
            ChangeKind::Resignation => "resignation",
            ChangeKind::Death => "death",
            ChangeKind::Retirement => "retirement",
            ChangeKind::TransferOut => "transfer_out",
            ChangeKind::Reissue => "reissue",
            ChangeKind::HeadChange => "head_change",
            ChangeKind::Update => "update",
            ChangeKind::UnitCreate => "unit_create",
            ChangeKind::UnitRename => "unit_rename",
            ChangeKind::UnitMove => "unit_move",
            ChangeKind::UnitMerge => "unit_merge",
            ChangeKind::UnitDissolve => "unit_dissolve",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The reason printed in notices.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::NewHire => "Tuyển dụng mới",
            ChangeKind::TransferIn => "Chuyển đến",
            ChangeKind::Transfer => "Điều chuyển công tác",
            ChangeKind::Resignation => "Thôi việc",
            ChangeKind::Death => "Từ trần",
            ChangeKind::Retirement => "Nghỉ hưu",
            ChangeKind::TransferOut => "Chuyển công tác ra ngoài",
            ChangeKind::Reissue => "Cấp lại hộp thư",
            ChangeKind::HeadChange => "Thay đổi lãnh đạo đơn vị (bàn giao hộp thư đơn vị)",
            ChangeKind::Update => "Cập nhật thông tin cá nhân",
            ChangeKind::UnitCreate => "Thành lập đơn vị",
            ChangeKind::UnitRename => "Đổi tên đơn vị",
            ChangeKind::UnitMove => "Chuyển đơn vị trực thuộc",
            ChangeKind::UnitMerge => "Hợp nhất đơn vị",
            ChangeKind::UnitDissolve => "Giải thể đơn vị",
        }
    }

    /// A change to the organisation tree rather than to a person.
    pub fn is_unit_change(self) -> bool {
        matches!(
            self,
            ChangeKind::UnitCreate
                | ChangeKind::UnitRename
                | ChangeKind::UnitMove
                | ChangeKind::UnitMerge
                | ChangeKind::UnitDissolve
        )
    }

    fn creates(self) -> bool {
        matches!(self, ChangeKind::NewHire | ChangeKind::TransferIn)
    }

    fn revokes(self) -> bool {
        matches!(
            self,
            ChangeKind::Resignation
                | ChangeKind::Death
                | ChangeKind::Retirement
                | ChangeKind::TransferOut
        )
    }
}

/// A request as filed (API body, CLI arguments, one row of a bulk file).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    pub kind: String,
    /// The person's address (every kind but new hire and transfer in).
    #[serde(default)]
    pub person: Option<String>,
    /// The unit code: the hiring unit (new hire, transfer in) or the destination (transfer).
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub staff_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Listed in the public directory: a new hire's (absent = no), or an update's (absent =
    /// unchanged).
    #[serde(default)]
    pub public: Option<bool>,
    #[serde(default)]
    pub reason: String,
    /// A head change: the addresses of the unit mailbox's delegates the new head confirms;
    /// every other delegation ends on approval (Đ12.3).
    #[serde(default)]
    pub keep_delegates: Vec<String>,
    /// An update: a new address by the rules for the corrected name, the old one kept as an
    /// alias. The focal unit's decision alone.
    #[serde(default)]
    pub new_address: bool,
    /// A unit change: the new unit's code (unit_create).
    #[serde(default)]
    pub code: Option<String>,
    /// A unit change: the new unit's kind (unit_create; a kind id of `[naming]`).
    #[serde(default)]
    pub unit_kind: Option<String>,
    /// A unit change: the unit's (new) name (unit_create, unit_rename).
    #[serde(default)]
    pub name: Option<String>,
    /// A unit change: the parent's code (unit_create, unit_move).
    #[serde(default)]
    pub parent: Option<String>,
    /// A unit change: the receiving unit's code (unit_merge).
    #[serde(default)]
    pub into: Option<String>,
}

/// What is kept of a request besides its columns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Payload {
    #[serde(skip_serializing_if = "Option::is_none")]
    full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    staff_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default)]
    public: bool,
    /// The destination unit's code (transfer), the unit whose head changes (head change).
    #[serde(skip_serializing_if = "Option::is_none")]
    target_unit: Option<String>,
    /// Filed by the focal unit rather than the unit itself (its revocations get a notice).
    #[serde(default)]
    filed_by_focal: bool,
    /// A head change: the delegates the new head confirms (addresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keep_delegates: Vec<String>,
    /// An update: `full_name`, `position`, `phone` given are the new values (an empty
    /// position or phone clears it), `set_public` the new publication, `new_address` asks for
    /// an address by the rules for the new name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set_public: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    new_address: bool,
}

/// A change request as shown to administrators.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    pub id: i64,
    pub kind: String,
    pub kind_label: String,
    pub state: String,
    pub unit_code: String,
    pub unit_name: String,
    pub person: Option<String>,
    pub full_name: Option<String>,
    pub target_unit: Option<String>,
    /// A head change: the delegates the new head confirms.
    pub keep_delegates: Vec<String>,
    pub reason: String,
    pub filed_by: String,
    pub filed_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
    /// An update: what it changes, for the one who decides.
    pub update: Option<UpdateView>,
}

/// What an update request changes (absent: unchanged; an empty position or phone clears it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateView {
    pub full_name: Option<String>,
    pub position: Option<String>,
    pub phone: Option<String>,
    pub public: Option<bool>,
    pub new_address: bool,
}

/// The outcome of an approval.
#[derive(Debug, Clone)]
pub struct Approved {
    pub change: ChangeView,
    /// A new or re-issued mailbox's one-time password, to hand to its owner once.
    pub credential: Option<Credential>,
    /// The notices issued.
    pub notices: Vec<NoticeRecord>,
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(hopthu_model::text::clean)
        .filter(|s| !s.is_empty())
}

impl Core {
    /// Files a change request. The unit it concerns must be in the actor's scope.
    pub async fn file_change(&self, actor: &Actor, input: &ChangeInput) -> Result<ChangeView> {
        let kind = ChangeKind::parse(&input.kind).ok_or_else(|| {
            Error::invalid(format!(
                "loại yêu cầu không hợp lệ / unknown kind {:?} (one of {})",
                input.kind,
                ChangeKind::ALL.map(|k| k.as_str()).join(", ")
            ))
        })?;
        if kind.is_unit_change() {
            return self.file_unit_change(actor, kind, input).await;
        }
        if input.code.is_some()
            || input.unit_kind.is_some()
            || input.name.is_some()
            || input.parent.is_some()
            || input.into.is_some()
        {
            return Err(Error::invalid(
                "code, unit_kind, name, parent and into are only for the unit_* kinds",
            ));
        }
        let mut payload = Payload {
            filed_by_focal: actor.is_focal(),
            ..Payload::default()
        };
        let (unit, person) = if kind.creates() {
            if input.person.is_some() {
                return Err(Error::invalid(
                    "người mới không có địa chỉ / a new hire has no address yet: omit person",
                ));
            }
            let code = trimmed(&input.unit)
                .ok_or_else(|| Error::invalid("thiếu đơn vị / unit (code) is required"))?;
            let name = trimmed(&input.full_name)
                .ok_or_else(|| Error::invalid("thiếu họ tên / full_name is required"))?;
            let unit = self.unit_by_code(&code).await?;
            payload.full_name = Some(name);
            payload.position = trimmed(&input.position);
            payload.staff_id = trimmed(&input.staff_id);
            payload.phone = trimmed(&input.phone);
            payload.public = input.public.unwrap_or(false);
            (unit, None)
        } else {
            let address = trimmed(&input.person)
                .ok_or_else(|| Error::invalid("thiếu địa chỉ / person (address) is required"))?;
            let person = self.person_by_address(&address).await?;
            let wanted = match kind {
                ChangeKind::Reissue => person.state != PersonState::Active,
                ChangeKind::Update => person.state != PersonState::Reserved,
                _ => person.state == PersonState::Active,
            };
            if !wanted {
                return Err(Error::invalid(format!(
                    "{}: {} / the mailbox is {}",
                    person.address,
                    match kind {
                        ChangeKind::Reissue => "hộp thư đang hoạt động",
                        ChangeKind::Update => "chỉ còn giữ địa chỉ, hãy cấp lại trước",
                        _ => "hộp thư không hoạt động",
                    },
                    person.state.as_str()
                )));
            }
            if kind == ChangeKind::Update {
                self.update_payload(actor, &person, input, &mut payload)
                    .await?;
            } else if input.new_address {
                return Err(Error::invalid("new_address is only for update"));
            }
            if kind == ChangeKind::Transfer {
                let code = trimmed(&input.unit).ok_or_else(|| {
                    Error::invalid("thiếu đơn vị đến / unit (destination code) is required")
                })?;
                let target = self.unit_by_code(&code).await?;
                if target.id == person.unit {
                    return Err(Error::invalid(
                        "đơn vị đến trùng đơn vị hiện tại / already in that unit",
                    ));
                }
                payload.target_unit = Some(target.code);
            } else if kind == ChangeKind::HeadChange {
                let code = trimmed(&input.unit)
                    .ok_or_else(|| Error::invalid("thiếu đơn vị / unit (code) is required"))?;
                let target = self.unit_by_code(&code).await?;
                if target.account.is_none() {
                    return Err(Error::invalid(format!(
                        "{}: đơn vị không có hộp thư / the unit has no mailbox",
                        target.code
                    )));
                }
                if target.head == Some(person.id) {
                    return Err(Error::invalid(format!(
                        "{}: đã là lãnh đạo của {} / is already the head of {}",
                        person.address, target.code, target.code
                    )));
                }
                payload.target_unit = Some(target.code.clone());
                payload.keep_delegates = self.confirmed_delegates(&target, input).await?;
                return self
                    .file_change_record(actor, kind, target, Some(person), payload, input)
                    .await;
            } else if !input.keep_delegates.is_empty() {
                return Err(Error::invalid("keep_delegates is only for head_change"));
            } else if input.unit.is_some() {
                return Err(Error::invalid(
                    "unit is only for new_hire, transfer_in, transfer and head_change",
                ));
            }
            let unit = self.unit_by_id(person.unit).await?;
            (unit, Some(person))
        };
        self.file_change_record(actor, kind, unit, person, payload, input)
            .await
    }

    /// Files a checked request for `unit` (the scope it is authorised by).
    async fn file_change_record(
        &self,
        actor: &Actor,
        kind: ChangeKind,
        unit: UnitRecord,
        person: Option<PersonRecord>,
        payload: Payload,
        input: &ChangeInput,
    ) -> Result<ChangeView> {
        self.authorize(actor, unit.id).await?;
        if let Some(p) = &person
            && self
                .store
                .changes()
                .await?
                .iter()
                .any(|c| c.state == ChangeState::Filed && c.person == Some(p.id))
        {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "{}: đã có yêu cầu đang chờ / a request is already waiting",
                    p.address
                ),
            ));
        }
        let payload_json = serde_json::to_string(&payload)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        let at = now();
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: format!("change.file.{}", kind.as_str()),
            target: "change:{id}".into(),
            before: person.as_ref().map(person_json),
            after: Some(payload_json.clone()),
        }];
        let id = self
            .store
            .file_change(
                &NewChange {
                    kind: kind.as_str().into(),
                    unit: unit.id,
                    person: person.as_ref().map(|p| p.id),
                    payload: payload_json,
                    reason: hopthu_model::text::clean(&input.reason),
                    filed_by: actor.name.clone(),
                    filed_at: at,
                },
                &audit,
            )
            .await?;
        self.change_view_by_id(id).await
    }

    /// Checks an update against the person as they are and fills its payload with what
    /// changes. Nothing to change is refused, and so is a new address asked for by anyone but
    /// the focal unit (a corrected name keeps its address, Đ7.3) or one the rules would give
    /// the same.
    async fn update_payload(
        &self,
        actor: &Actor,
        person: &PersonRecord,
        input: &ChangeInput,
        payload: &mut Payload,
    ) -> Result<()> {
        if input.new_address && !actor.is_focal() {
            return Err(Error::forbidden(
                "chỉ đơn vị đầu mối quyết định cấp địa chỉ mới; sửa họ tên vẫn giữ địa chỉ (Đ7.3) / only the focal unit may give a new address: a corrected name keeps the address (Đ7.3)",
            ));
        }
        if input.staff_id.is_some() {
            return Err(Error::invalid(
                "không cập nhật mã cán bộ / update does not change staff_id",
            ));
        }
        if input.full_name.is_some() && trimmed(&input.full_name).is_none() {
            return Err(Error::invalid(
                "họ tên không được để trống / full_name cannot be empty",
            ));
        }
        // An empty position or phone clears it.
        let changed = |given: &Option<String>, stored: &Option<String>| {
            let given = hopthu_model::text::clean(given.as_deref()?);
            let same = if given.is_empty() {
                stored.is_none()
            } else {
                stored.as_deref() == Some(given.as_str())
            };
            (!same).then_some(given)
        };
        payload.full_name = trimmed(&input.full_name).filter(|n| *n != person.full_name);
        payload.position = changed(&input.position, &person.position);
        payload.phone = changed(&input.phone, &person.phone);
        payload.set_public = input.public.filter(|p| *p != person.public);
        payload.new_address = input.new_address;
        if payload.full_name.is_none()
            && payload.position.is_none()
            && payload.phone.is_none()
            && payload.set_public.is_none()
            && !payload.new_address
        {
            return Err(Error::invalid(format!(
                "{}: không có gì thay đổi / nothing to change",
                person.address
            )));
        }
        if payload.new_address {
            self.new_address_for(person, payload).await?;
        }
        Ok(())
    }

    /// The address the rules give an update's (corrected) name, which must differ from the
    /// person's.
    async fn new_address_for(&self, person: &PersonRecord, payload: &Payload) -> Result<String> {
        let unit = self.unit_by_id(person.unit).await?;
        let name = payload.full_name.as_deref().unwrap_or(&person.full_name);
        let address = self
            .plan_person_address(name, &unit.code, &person.address)
            .await?;
        if address == person.address {
            return Err(Error::invalid(format!(
                "{}: họ tên này vẫn cho đúng địa chỉ hiện tại, không cần địa chỉ mới / the rules give this name the same address",
                person.address
            )));
        }
        Ok(address)
    }

    /// The change requests the actor may see, newest first.
    pub async fn changes(&self, actor: &Actor) -> Result<Vec<ChangeView>> {
        let units = self.store.units().await?;
        let people = self.store.people().await?;
        self.store
            .changes()
            .await?
            .into_iter()
            .filter(|c| crate::admin::in_scope(actor.scope, c.unit, &units))
            .map(|c| change_view(&c, &units, &people))
            .collect()
    }

    /// One change request, if the actor may see it.
    pub async fn change(&self, actor: &Actor, id: i64) -> Result<ChangeView> {
        let record = self.change_record(id).await?;
        self.authorize_read(actor, record.unit).await?;
        self.change_view_by_id(id).await
    }

    /// Rejects a filed request. Focal only.
    pub async fn reject_change(&self, actor: &Actor, id: i64, note: &str) -> Result<ChangeView> {
        self.authorize_focal(actor)?;
        let record = self.change_record(id).await?;
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "change.reject".into(),
            target: format!("change:{id}"),
            before: Some(r#"{"state":"filed"}"#.into()),
            after: Some(r#"{"state":"rejected"}"#.into()),
        }];
        self.store
            .write_lifecycle(&LifecycleWrite {
                at: now(),
                decision: Some(Decision {
                    change: record.id,
                    state: ChangeState::Rejected,
                    by: actor.name.clone(),
                    note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
                    person: None,
                }),
                effects: &[],
                warnings: &[],
                audit: &audit,
            })
            .await
            .map_err(decision_error)?;
        let view = self.change_view_by_id(id).await?;
        self.tell_rejection(&view).await;
        Ok(view)
    }

    /// Tells the unit mailbox and whoever filed the request that it was rejected, and why (a
    /// plain message, not a numbered notice: nothing changed). Failing to deliver is logged.
    async fn tell_rejection(&self, view: &ChangeView) {
        let unit = self.unit_by_code(&view.unit_code).await.ok();
        let mut to: Vec<hopthu_model::EmailAddress> = Vec::new();
        for address in unit
            .iter()
            .map(|u| u.address.as_str())
            .chain([view.filed_by.as_str()])
        {
            if let Ok(a) = hopthu_model::EmailAddress::parse(address)
                && self.is_local_domain(&a)
                && !to.contains(&a)
            {
                to.push(a);
            }
        }
        if to.is_empty() {
            return;
        }
        let who = view
            .full_name
            .clone()
            .or_else(|| view.person.clone())
            .unwrap_or_default();
        let note = view.decision_note.clone().unwrap_or_default();
        let body = format!(
            "Đề nghị số {id} ({kind}{who_vi}) của {unit} không được chấp thuận.\r\n\
             Lý do: {note_vi}\r\n\
             Hộp thư và danh bạ không thay đổi. Đơn vị có thể gửi đề nghị mới sau khi bổ sung.\r\n\
             \r\n\
             Request {id} ({kind}{who_vi}) of {unit} was not approved.\r\n\
             Reason: {note_en}\r\n\
             Nothing changed in the mailboxes or the directory. The unit may file a new request.\r\n",
            id = view.id,
            kind = view.kind_label.replace(['\r', '\n'], " "),
            who_vi = if who.is_empty() {
                String::new()
            } else {
                format!(": {}", who.replace(['\r', '\n'], " "))
            },
            unit = view.unit_name.replace(['\r', '\n'], " "),
            note_vi = if note.is_empty() {
                "(không ghi)".to_string()
            } else {
                note.clone()
            },
            note_en = if note.is_empty() {
                "(none given)".to_string()
            } else {
                note
            },
        );
        let header_to: Vec<String> = to.iter().map(|a| format!("<{a}>")).collect();
        let message = crate::dsn::system_message(
            &self.config.domain,
            &self.config.hostname,
            &header_to.join(", "),
            &format!(
                "Đề nghị số {} không được chấp thuận / Request {} not approved",
                view.id, view.id
            ),
            "rejected",
            &body,
        );
        let envelope = crate::Envelope {
            mail_from: None,
            recipients: to,
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, message).await {
            tracing::warn!(change = view.id, error = %e, "rejection not delivered");
        }
    }

    /// Approves a filed request and applies it, then issues its notices. Focal only.
    pub async fn approve_change(&self, actor: &Actor, id: i64, note: &str) -> Result<Approved> {
        self.authorize_focal(actor)?;
        let record = self.change_record(id).await?;
        if record.state != ChangeState::Filed {
            return Err(Error::invalid(format!(
                "yêu cầu {id} đã được xử lý / request {id} is already {}",
                record.state.as_str()
            )));
        }
        let kind = ChangeKind::parse(&record.kind)
            .ok_or_else(|| Error::new(ErrorKind::Internal, "unknown change kind stored"))?;
        if kind.is_unit_change() {
            return self.approve_unit_change(actor, &record, kind, note).await;
        }
        let payload: Payload = serde_json::from_str(&record.payload)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("change payload: {e}")))?;
        let unit = self.unit_by_id(record.unit).await?;
        if kind == ChangeKind::HeadChange && record.person.is_none() {
            return Err(Error::invalid(format!(
                "yêu cầu {id} chưa có lãnh đạo mới: hãy lập head_change --unit {code} --person ĐỊA_CHỈ / request {id} names no new head: file head_change --unit {code} --person ADDRESS",
                code = unit.code
            )));
        }
        let mut effects = Vec::new();
        let mut credential = None;
        let mut before = None;
        let mut after;
        let mut handover: Option<Handover> = None;
        // An update: the person as they were, for the notice.
        let mut updated_from: Option<PersonRecord> = None;
        let person_id: PersonId;
        if kind.creates() {
            let (id, cred) = self.create_person(actor, &unit, &payload).await?;
            person_id = id;
            credential = cred;
            after = self.person_by_id(id).await?;
        } else {
            let person = self
                .person_by_id(record.person.ok_or_else(|| {
                    Error::new(ErrorKind::Internal, "change request without a person")
                })?)
                .await?;
            before = Some(person_json(&person));
            person_id = person.id;
            after = person.clone();
            match kind {
                ChangeKind::Transfer => {
                    let target = self
                        .unit_by_code(payload.target_unit.as_deref().unwrap_or_default())
                        .await?;
                    effects.push(LifecycleEffect::MovePerson {
                        person: person.id,
                        unit: target.id,
                    });
                    after.unit = target.id;
                }
                ChangeKind::HeadChange => {
                    let target = self
                        .unit_by_code(payload.target_unit.as_deref().unwrap_or_default())
                        .await?;
                    if person.state != PersonState::Active {
                        return Err(Error::invalid(format!(
                            "{}: hộp thư không hoạt động / the mailbox is {}",
                            person.address,
                            person.state.as_str()
                        )));
                    }
                    effects.push(LifecycleEffect::SetUnitHead {
                        unit: target.id,
                        person: person.id,
                    });
                    // The delegates the new head confirmed stay, if they still are.
                    let mut keep = Vec::new();
                    if let Some(unit_account) = target.account {
                        for d in self.store.delegates(unit_account).await? {
                            if payload
                                .keep_delegates
                                .iter()
                                .any(|a| a.eq_ignore_ascii_case(&d.delegate_address))
                            {
                                keep.push(d.delegate);
                            }
                        }
                    }
                    effects.push(LifecycleEffect::EndDelegations {
                        unit: target.id,
                        keep,
                    });
                    if target.revoked_at.is_some() {
                        effects.push(LifecycleEffect::SetUnitMailboxOpen {
                            unit: target.id,
                            open: true,
                        });
                    }
                    handover = Some(
                        self.handover_record(actor, &target, &person, &payload.keep_delegates)
                            .await?,
                    );
                }
                ChangeKind::Reissue => {
                    let password = generate_password();
                    let hash = self
                        .hash_in_turn(password.clone(), Secret::Generated)
                        .await?;
                    match person.account {
                        Some(account) => effects.push(LifecycleEffect::SetPassword {
                            account,
                            hash,
                            must_change: true,
                        }),
                        // The retention was over and the data is gone: a new, empty mailbox
                        // at the address kept for the person.
                        None => {
                            // An earlier approval that stopped half-way may have created it.
                            let existing = self.store.account_by_address(&person.address).await?;
                            let account = match existing {
                                Some(a) => {
                                    effects.push(LifecycleEffect::SetPassword {
                                        account: a.id,
                                        hash,
                                        must_change: true,
                                    });
                                    a.id
                                }
                                None => {
                                    self.store
                                        .create_account(
                                            &hopthu_store::NewAccount {
                                                address: person.address.clone(),
                                                display_name: person.full_name.clone(),
                                                password_hash: hash,
                                                must_change_password: true,
                                                created_at: now(),
                                            },
                                            crate::mail::STANDARD_FOLDERS,
                                        )
                                        .await?
                                }
                            };
                            effects.push(LifecycleEffect::LinkAccount {
                                person: person.id,
                                account,
                            });
                        }
                    }
                    effects.push(LifecycleEffect::SetPersonState {
                        person: person.id,
                        state: PersonState::Active,
                    });
                    after.state = PersonState::Active;
                    credential = Some(Credential {
                        unit_code: unit.code.clone(),
                        unit_name: unit.name.clone(),
                        kind: MailboxKind::Person,
                        name: person.full_name.clone(),
                        position: person.position.clone(),
                        address: person.address.clone(),
                        password,
                    });
                }
                ChangeKind::Update => {
                    if person.state == PersonState::Reserved {
                        return Err(Error::invalid(format!(
                            "{}: chỉ còn giữ địa chỉ, hãy cấp lại trước / the mailbox is reserved",
                            person.address
                        )));
                    }
                    let given =
                        |v: &Option<String>| v.clone().map(|v| Some(v).filter(|v| !v.is_empty()));
                    effects.push(LifecycleEffect::SetPersonDetails {
                        person: person.id,
                        full_name: payload.full_name.clone(),
                        position: given(&payload.position),
                        phone: given(&payload.phone),
                        public: payload.set_public,
                    });
                    if let Some(name) = &payload.full_name {
                        after.full_name = name.clone();
                    }
                    if let Some(position) = given(&payload.position) {
                        after.position = position;
                    }
                    if let Some(phone) = given(&payload.phone) {
                        after.phone = phone;
                    }
                    if let Some(public) = payload.set_public {
                        after.public = public;
                    }
                    if payload.new_address {
                        let address = self.new_address_for(&person, &payload).await?;
                        effects.push(LifecycleEffect::ReaddressPerson {
                            person: person.id,
                            address: address.clone(),
                        });
                        after.address = address;
                    }
                    before = Some(details_json(&person));
                    updated_from = Some(person.clone());
                }
                _ => {
                    effects.push(LifecycleEffect::SetPersonState {
                        person: person.id,
                        state: PersonState::Revoked,
                    });
                    after.state = PersonState::Revoked;
                }
            }
        }
        let mut audit = vec![NewAudit {
            actor: actor.name.clone(),
            action: format!("change.approve.{}", kind.as_str()),
            target: format!("change:{id}"),
            before,
            after: Some(if kind == ChangeKind::Update {
                details_json(&after)
            } else {
                person_json(&after)
            }),
        }];
        if let Some(h) = &handover {
            audit.push(h.audit.clone());
        }
        self.store
            .write_lifecycle(&LifecycleWrite {
                at: now(),
                decision: Some(Decision {
                    change: record.id,
                    state: ChangeState::Approved,
                    by: actor.name.clone(),
                    note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
                    person: Some(person_id),
                }),
                effects: &effects,
                warnings: &[],
                audit: &audit,
            })
            .await
            .map_err(decision_error)?;
        let person = self.person_by_id(person_id).await?;
        tracing::info!(change = id, kind = kind.as_str(), person = %person.address, "change approved");
        if kind == ChangeKind::HeadChange {
            self.close_open_head_changes(actor, record.unit, id).await?;
        } else if (kind == ChangeKind::Transfer || kind.revokes())
            && let Some(left) = before_unit_headed(&unit, person_id)
        {
            self.open_head_change(actor, left, &person, kind).await?;
        }

        let line = NoticeLine {
            full_name: person.full_name.clone(),
            address: person.address.clone(),
            reason: if record.reason.is_empty() {
                kind.label().to_string()
            } else {
                format!("{} ({})", kind.label(), record.reason)
            },
        };
        let mut notices = Vec::new();
        if kind.creates() || kind == ChangeKind::Reissue {
            notices.push(
                self.issue_notice(actor, NoticeKind::Grant, &unit, std::slice::from_ref(&line))
                    .await?,
            );
        } else if kind == ChangeKind::Transfer {
            let target = self.unit_by_id(person.unit).await?;
            for u in [&unit, &target] {
                notices.push(
                    self.issue_notice(actor, NoticeKind::Transfer, u, std::slice::from_ref(&line))
                        .await?,
                );
            }
        } else if let Some(h) = &handover {
            notices.push(
                self.issue_notice(actor, NoticeKind::Handover, &h.unit, &h.lines)
                    .await?,
            );
        } else if let Some(was) = &updated_from {
            let line = NoticeLine {
                reason: update_reason(was, &person, &record.reason),
                ..line
            };
            notices.push(
                self.issue_notice(
                    actor,
                    NoticeKind::Update,
                    &unit,
                    std::slice::from_ref(&line),
                )
                .await?,
            );
        } else if kind.revokes() && payload.filed_by_focal {
            notices.push(
                self.issue_notice(
                    actor,
                    NoticeKind::Revoke,
                    &unit,
                    std::slice::from_ref(&line),
                )
                .await?,
            );
        }
        Ok(Approved {
            change: self.change_view_by_id(id).await?,
            credential,
            notices,
        })
    }

    /// The delegates a head change confirms, checked: each must be a delegate of the unit
    /// mailbox now. Returned as the delegates' addresses, lower case.
    async fn confirmed_delegates(
        &self,
        unit: &UnitRecord,
        input: &ChangeInput,
    ) -> Result<Vec<String>> {
        if input.keep_delegates.is_empty() {
            return Ok(Vec::new());
        }
        let delegates = match unit.account {
            Some(account) => self.store.delegates(account).await?,
            None => Vec::new(),
        };
        let mut keep = Vec::new();
        for address in &input.keep_delegates {
            let address = address.trim().to_lowercase();
            if address.is_empty() {
                continue;
            }
            if !delegates
                .iter()
                .any(|d| d.delegate_address.eq_ignore_ascii_case(&address))
            {
                return Err(Error::invalid(format!(
                    "{address}: không phải người được ủy quyền hộp thư {} / is not a delegate of {}",
                    unit.address, unit.address
                )));
            }
            if !keep.contains(&address) {
                keep.push(address);
            }
        }
        Ok(keep)
    }

    /// Opens a `head_change` request for `unit`, whose head just left (transfer, resignation,
    /// retirement, death, transfer out), unless one is waiting already: a reminder in the focal
    /// unit's queue that names no new head yet. A request naming the new head closes it.
    async fn open_head_change(
        &self,
        actor: &Actor,
        unit: &UnitRecord,
        former: &PersonRecord,
        why: ChangeKind,
    ) -> Result<()> {
        let waiting = self.store.changes().await?.into_iter().any(|c| {
            c.state == ChangeState::Filed
                && c.unit == unit.id
                && c.kind == ChangeKind::HeadChange.as_str()
                && c.person.is_none()
        });
        if waiting || unit.account.is_none() {
            return Ok(());
        }
        let payload = Payload {
            target_unit: Some(unit.code.clone()),
            filed_by_focal: actor.is_focal(),
            ..Payload::default()
        };
        let payload_json = serde_json::to_string(&payload)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        let reason = format!(
            "{} ({}): cần chỉ định lãnh đạo mới nhận bàn giao hộp thư đơn vị / a new head must be named to take the unit mailbox over",
            former.full_name,
            why.label()
        );
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "change.file.head_change".into(),
            target: "change:{id}".into(),
            before: Some(person_json(former)),
            after: Some(payload_json.clone()),
        }];
        self.store
            .file_change(
                &NewChange {
                    kind: ChangeKind::HeadChange.as_str().into(),
                    unit: unit.id,
                    person: None,
                    payload: payload_json,
                    reason,
                    filed_by: actor.name.clone(),
                    filed_at: now(),
                },
                &audit,
            )
            .await?;
        Ok(())
    }

    /// Closes the waiting `head_change` requests of `unit` that name no head, now that change
    /// `by` handed the unit mailbox over.
    async fn close_open_head_changes(&self, actor: &Actor, unit: UnitId, by: i64) -> Result<()> {
        let open: Vec<i64> = self
            .store
            .changes()
            .await?
            .into_iter()
            .filter(|c| {
                c.state == ChangeState::Filed
                    && c.unit == unit
                    && c.kind == ChangeKind::HeadChange.as_str()
                    && c.person.is_none()
            })
            .map(|c| c.id)
            .collect();
        for change in open {
            let note = format!("đã bàn giao theo yêu cầu {by} / handed over by request {by}");
            let audit = [NewAudit {
                actor: actor.name.clone(),
                action: "change.approve.head_change".into(),
                target: format!("change:{change}"),
                before: Some(r#"{"state":"filed"}"#.into()),
                after: Some(serde_json::json!({ "state": "approved", "note": note }).to_string()),
            }];
            let written = self
                .store
                .write_lifecycle(&LifecycleWrite {
                    at: now(),
                    decision: Some(Decision {
                        change,
                        state: ChangeState::Approved,
                        by: actor.name.clone(),
                        note: Some(note),
                        person: None,
                    }),
                    effects: &[],
                    warnings: &[],
                    audit: &audit,
                })
                .await;
            // Decided meanwhile by someone else: nothing left to close.
            if let Err(e) = written
                && !matches!(e, StoreError::Conflict(_))
            {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// What a handover of `unit`'s mailbox to `head` changes, read before it is applied: the
    /// audit row that records it (who, when, what: the former head and the delegates whose
    /// rights end) and the lines of its notice.
    async fn handover_record(
        &self,
        actor: &Actor,
        unit: &UnitRecord,
        head: &PersonRecord,
        keep: &[String],
    ) -> Result<Handover> {
        let account = unit.account.ok_or_else(|| {
            Error::invalid(format!(
                "{}: đơn vị không có hộp thư / the unit has no mailbox",
                unit.code
            ))
        })?;
        let former = match unit.head {
            Some(id) if id != head.id => self.person_by_id(id).await.ok(),
            _ => None,
        };
        let delegates = self.store.delegates(account).await?;
        let mut lines = vec![NoticeLine {
            full_name: head.full_name.clone(),
            address: head.address.clone(),
            reason: "Lãnh đạo đơn vị, chủ hộp thư đơn vị từ nay (Đ12.3)".into(),
        }];
        if let Some(f) = &former {
            lines.push(NoticeLine {
                full_name: f.full_name.clone(),
                address: f.address.clone(),
                reason: "Thôi quản lý hộp thư đơn vị; đã bàn giao".into(),
            });
        }
        let kept = |address: &str| keep.iter().any(|k| k.eq_ignore_ascii_case(address));
        for d in &delegates {
            lines.push(NoticeLine {
                full_name: d.delegate_address.clone(),
                address: d.delegate_address.clone(),
                reason: if kept(&d.delegate_address) {
                    format!("Tiếp tục được giao ({}), lãnh đạo mới xác nhận", d.rights)
                } else {
                    format!(
                        "Chấm dứt quyền được giao ({}); lãnh đạo mới giao lại nếu cần",
                        d.rights
                    )
                },
            });
        }
        let before = serde_json::json!({
            "head": former.as_ref().map(|f| f.address.clone()),
            "delegates": delegates.iter().map(|d| serde_json::json!({
                "delegate": d.delegate_address, "rights": d.rights.to_string()
            })).collect::<Vec<_>>(),
        });
        let after = serde_json::json!({
            "head": head.address,
            "delegates": delegates.iter().filter(|d| kept(&d.delegate_address)).map(|d| serde_json::json!({
                "delegate": d.delegate_address, "rights": d.rights.to_string()
            })).collect::<Vec<_>>(),
        });
        Ok(Handover {
            unit: unit.clone(),
            audit: NewAudit {
                actor: actor.name.clone(),
                action: "unit_mailbox.handover".into(),
                target: format!("unit_mailbox:{}", unit.address),
                before: Some(before.to_string()),
                after: Some(after.to_string()),
            },
            lines,
        })
    }

    /// Creates a new hire's person and mailbox by the address rules (the import services), or
    /// finds them when an earlier approval created them already. The new account is audited
    /// as `account.add` by `actor`.
    async fn create_person(
        &self,
        actor: &Actor,
        unit: &UnitRecord,
        p: &Payload,
    ) -> Result<(PersonId, Option<Credential>)> {
        match self
            .person_through_directory(actor, unit, p, "change", None)
            .await?
        {
            Ok((id, credential)) => Ok((id, Some(credential))),
            Err(existing) => Ok((existing.id, None)),
        }
    }

    /// A person of `unit` with a mailbox at the address the rules give, made through the
    /// import services with one `account.add` audit row (`via`: how it was asked for) in the
    /// same transaction; `Err(person)` when the directory has them already (same staff id,
    /// else same name in the same unit) and nothing is written. `person_password` as in
    /// [`Core::apply_plan`].
    async fn person_through_directory(
        &self,
        actor: &Actor,
        unit: &UnitRecord,
        p: &Payload,
        via: &str,
        person_password: Option<(String, bool)>,
    ) -> Result<std::result::Result<(PersonId, Credential), PersonRecord>> {
        let field = |s: &Option<String>| super::csv_field(s.as_deref().unwrap_or(""));
        let people = format!(
            "full_name,unit,position,staff_id,phone,public\n{},{},{},{},{},{}\n",
            field(&p.full_name),
            super::csv_field(&unit.code),
            field(&p.position),
            field(&p.staff_id),
            field(&p.phone),
            if p.public { "1" } else { "0" }
        );
        let request = ImportRequest {
            units: ImportSource {
                name: "units".into(),
                bytes: b"kind,code,name,parent\n".to_vec(),
            },
            people: Some(ImportSource {
                name: "people".into(),
                bytes: people.into_bytes(),
            }),
            person_duplicates: None,
        };
        let plan = self
            .plan_import(&request)
            .await
            .map_err(|e| Error::invalid(e.to_string()))?;
        let row = plan
            .rows
            .last()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "empty plan"))?;
        if row.status == RowStatus::Existing {
            return Ok(Err(self.person_by_address(&row.address).await?));
        }
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "account.add".into(),
            target: format!("account:{}", row.address),
            before: None,
            after: Some(
                serde_json::json!({
                    "unit": unit.code,
                    "full_name": row.name,
                    "position": p.position,
                    "via": via,
                })
                .to_string(),
            ),
        }];
        let applied = self
            .apply_plan(plan, &audit, Arc::new(|_| {}), person_password)
            .await?;
        let id = *applied
            .people
            .first()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "no person created"))?;
        let credential = applied
            .credentials
            .into_iter()
            .last()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "no credential"))?;
        Ok(Ok((id, credential)))
    }

    /// `hopthu account add --unit CODE --full-name N`: a person of the unit with the address
    /// the rules give (Đ7.3) and a mailbox, audited as `account.add`. Refused
    /// ([`ErrorKind::AlreadyExists`]) when the directory has this person already.
    pub async fn add_person_account(
        &self,
        actor: &Actor,
        req: crate::NewPersonRequest,
    ) -> Result<crate::CreatedAccount> {
        let unit = self.unit_by_code(&req.unit).await?;
        self.authorize(actor, unit.id).await?;
        let full_name = hopthu_model::text::clean(&req.full_name);
        if full_name.is_empty() {
            return Err(Error::invalid("the full name is empty"));
        }
        let (hash, one_time_password) = crate::accounts::first_password(self, req.password).await?;
        let payload = Payload {
            full_name: Some(full_name),
            position: req.position.map(|p| hopthu_model::text::clean(&p)),
            staff_id: req.staff_id.map(|s| s.trim().to_string()),
            ..Payload::default()
        };
        match self
            .person_through_directory(
                actor,
                &unit,
                &payload,
                "account_add",
                Some((hash, req.must_change_password)),
            )
            .await?
        {
            Ok((_, credential)) => {
                let person = self.person_by_address(&credential.address).await?;
                let address = hopthu_model::EmailAddress::parse(&credential.address)
                    .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
                Ok(crate::CreatedAccount {
                    id: person.account.ok_or_else(|| {
                        Error::new(ErrorKind::Internal, "the new person has no account")
                    })?,
                    address,
                    one_time_password,
                })
            }
            Err(existing) => Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "{} đã có trong danh bạ của đơn vị {}: {} / already in the directory of unit {}: {}",
                    existing.full_name, unit.code, existing.address, unit.code, existing.address
                ),
            )),
        }
    }

    // ---- notices ------------------------------------------------------------------------

    /// Writes a notice to a unit, stores it for download and delivers it into the unit mailbox
    /// from the focal unit's address.
    pub(crate) async fn issue_notice(
        &self,
        actor: &Actor,
        kind: NoticeKind,
        unit: &UnitRecord,
        lines: &[NoticeLine],
    ) -> Result<NoticeRecord> {
        let (issuer, from) = self.notice_issuer().await;
        let symbol = self
            .config
            .lifecycle
            .notice_symbol
            .clone()
            .unwrap_or_else(|| notice::default_symbol(&issuer));
        let place = self.config.naming.province_name.clone();
        let local = local_now();
        let year = chrono::Datelike::year(&local);
        let date = (
            chrono::Datelike::day(&local),
            chrono::Datelike::month(&local),
            year,
        );
        let mut attempt = 0;
        let (id, reference, text, html) = loop {
            let number = self.store.next_notice_number(year).await?;
            let reference = format!("{number}/{symbol}");
            let content = NoticeContent {
                kind,
                issuer: &issuer,
                reference: &reference,
                place: &place,
                date,
                unit_name: &unit.name,
                lines,
            };
            let text = notice::render_text(&content);
            let html = notice::render_html(&content);
            let audit = [NewAudit {
                actor: actor.name.clone(),
                action: "notice.issue".into(),
                target: format!("unit:{}", unit.code),
                before: None,
                after: Some(
                    serde_json::json!({
                        "reference": reference,
                        "subject": kind.subject(),
                        "addresses": lines.iter().map(|l| l.address.as_str()).collect::<Vec<_>>(),
                    })
                    .to_string(),
                ),
            }];
            match self
                .store
                .insert_notice(
                    &NewNotice {
                        year,
                        number,
                        reference: reference.clone(),
                        unit: unit.id,
                        subject: kind.subject().into(),
                        body_text: text.clone(),
                        body_html: html.clone(),
                        created_at: now(),
                    },
                    &audit,
                )
                .await
            {
                Ok(id) => break (id, reference, text, html),
                // Another process took the number: take the next one.
                Err(StoreError::Conflict(_)) if attempt < 5 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        };
        let subject = format!("Thông báo số {reference} {}", kind.subject().to_lowercase());
        self.send_notice_mail(
            &notice::NoticeMail {
                from: &from,
                from_name: &issuer,
                to: &unit.address,
                subject: &subject,
                text: &text,
                html: Some(&html),
            },
            id,
        )
        .await;
        self.store
            .notice(id)
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Internal, "stored notice not found"))
    }

    /// Delivers a notice or a warning locally; a failure is logged, the notice stays
    /// downloadable.
    pub(crate) async fn send_notice_mail(&self, mail: &notice::NoticeMail<'_>, id: i64) {
        let (Ok(from_address), Ok(to_address)) = (
            hopthu_model::EmailAddress::parse(mail.from),
            hopthu_model::EmailAddress::parse(mail.to),
        ) else {
            tracing::warn!(from = %mail.from, to = %mail.to, "notice addresses do not parse");
            return;
        };
        let message_id = format!(
            "notice-{id}-{}@{}",
            rand::random::<u32>(),
            self.config.hostname
        );
        let raw = notice::mime_message(mail, &local_now().to_rfc2822(), &message_id);
        let envelope = Envelope {
            mail_from: Some(from_address),
            recipients: vec![to_address],
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, raw).await {
            tracing::warn!(to = %mail.to, error = %e, "notice not delivered");
        }
    }

    /// The issuing body's name and address: the configured focal unit, else the postmaster.
    pub(crate) async fn notice_issuer(&self) -> (String, String) {
        if let Some(code) = &self.config.lifecycle.focal_unit
            && let Ok(unit) = self.unit_by_code(code).await
        {
            return (unit.name, unit.address);
        }
        (
            "Đơn vị đầu mối".into(),
            format!("postmaster@{}", self.config.domain),
        )
    }

    /// The notices the actor may see, newest first.
    pub async fn notices(&self, actor: &Actor) -> Result<Vec<NoticeRecord>> {
        let units = self.store.units().await?;
        Ok(self
            .store
            .notices()
            .await?
            .into_iter()
            .filter(|n| crate::admin::in_scope(actor.scope, n.unit, &units))
            .collect())
    }

    /// One notice, if the actor may see it.
    pub async fn notice(&self, actor: &Actor, id: i64) -> Result<NoticeRecord> {
        let notice = self
            .store
            .notice(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("không có thông báo / no notice {id}")))?;
        self.authorize_read(actor, notice.unit).await?;
        Ok(notice)
    }

    /// The people the actor may see, by id.
    pub async fn people_in_scope(&self, actor: &Actor) -> Result<Vec<PersonRecord>> {
        let units = self.store.units().await?;
        Ok(self
            .store
            .people()
            .await?
            .into_iter()
            .filter(|p| crate::admin::in_scope(actor.scope, p.unit, &units))
            .collect())
    }

    // ---- look-ups -----------------------------------------------------------------------

    pub(crate) async fn person_by_address(&self, address: &str) -> Result<PersonRecord> {
        let address = self.local_address(address)?.to_string();
        self.store
            .people()
            .await?
            .into_iter()
            .find(|p| p.address == address)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "{address}: không có trong danh bạ / not in the directory"
                ))
            })
    }

    pub(crate) async fn person_by_id(&self, id: PersonId) -> Result<PersonRecord> {
        self.store
            .people()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| Error::not_found(format!("person {}", id.0)))
    }

    pub(crate) async fn unit_by_id(&self, id: UnitId) -> Result<UnitRecord> {
        self.store
            .units()
            .await?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or_else(|| Error::not_found(format!("unit {}", id.0)))
    }

    async fn change_record(&self, id: i64) -> Result<ChangeRecord> {
        self.store
            .change(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("không có yêu cầu / no change request {id}")))
    }

    async fn change_view_by_id(&self, id: i64) -> Result<ChangeView> {
        let record = self.change_record(id).await?;
        let units = self.store.units().await?;
        let people = self.store.people().await?;
        change_view(&record, &units, &people)
    }
}

fn decision_error(e: StoreError) -> Error {
    match e {
        StoreError::Conflict(what) => Error::invalid(what),
        e => e.into(),
    }
}

/// Now in Vietnam (UTC+7): notice dates and their yearly numbering.
pub(crate) fn local_now() -> chrono::DateTime<chrono::FixedOffset> {
    let offset = chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset");
    chrono::Utc::now().with_timezone(&offset)
}

/// The unit `person` was the head of before the change, when they were (`unit` as read
/// before the change was applied).
fn before_unit_headed(unit: &UnitRecord, person: PersonId) -> Option<&UnitRecord> {
    (unit.head == Some(person)).then_some(unit)
}

/// A handover of a unit mailbox (Đ12.3), ready to write and announce.
struct Handover {
    unit: UnitRecord,
    audit: NewAudit,
    lines: Vec<NoticeLine>,
}

/// An update's line in its notice: what changed, the old address when it did.
fn update_reason(was: &PersonRecord, became: &PersonRecord, why: &str) -> String {
    let mut parts = Vec::new();
    if was.full_name != became.full_name {
        parts.push(format!("họ tên: {} → {}", was.full_name, became.full_name));
    }
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(trống)".into());
    if was.position != became.position {
        parts.push(format!(
            "chức vụ: {} → {}",
            shown(&was.position),
            shown(&became.position)
        ));
    }
    if was.phone != became.phone {
        parts.push(format!(
            "điện thoại: {} → {}",
            shown(&was.phone),
            shown(&became.phone)
        ));
    }
    if was.public != became.public {
        parts.push(
            if became.public {
                "công khai trong danh bạ"
            } else {
                "không công khai trong danh bạ"
            }
            .to_string(),
        );
    }
    if was.address != became.address {
        parts.push(format!(
            "địa chỉ mới {}; địa chỉ cũ {} vẫn nhận thư (bí danh), không dùng để đăng nhập",
            became.address, was.address
        ));
    } else {
        parts.push("giữ nguyên địa chỉ".into());
    }
    let mut reason = format!("{}: {}", ChangeKind::Update.label(), parts.join("; "));
    if !why.is_empty() {
        reason.push_str(&format!(" ({why})"));
    }
    reason
}

/// A person's details as an update's audit row shows them.
fn details_json(p: &PersonRecord) -> String {
    serde_json::json!({
        "address": p.address,
        "full_name": p.full_name,
        "position": p.position,
        "phone": p.phone,
        "public": p.public,
        "state": p.state.as_str(),
    })
    .to_string()
}

fn person_json(p: &PersonRecord) -> String {
    serde_json::json!({
        "address": p.address,
        "full_name": p.full_name,
        "unit_id": p.unit.0,
        "state": p.state.as_str(),
    })
    .to_string()
}

fn change_view(
    c: &ChangeRecord,
    units: &[UnitRecord],
    people: &[PersonRecord],
) -> Result<ChangeView> {
    let payload: Payload = serde_json::from_str(&c.payload).unwrap_or_default();
    let unit = units.iter().find(|u| u.id == c.unit);
    let person = c.person.and_then(|id| people.iter().find(|p| p.id == id));
    Ok(ChangeView {
        id: c.id,
        kind: c.kind.clone(),
        kind_label: ChangeKind::parse(&c.kind)
            .map(|k| k.label().to_string())
            .unwrap_or_default(),
        state: c.state.as_str().into(),
        unit_code: unit.map(|u| u.code.clone()).unwrap_or_default(),
        unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
        person: person.map(|p| p.address.clone()),
        full_name: person
            .map(|p| p.full_name.clone())
            .or(payload.full_name.clone()),
        target_unit: payload.target_unit,
        keep_delegates: payload.keep_delegates,
        reason: c.reason.clone(),
        filed_by: c.filed_by.clone(),
        filed_at: c.filed_at,
        decided_by: c.decided_by.clone(),
        decided_at: c.decided_at,
        decision_note: c.decision_note.clone(),
        update: (c.kind == ChangeKind::Update.as_str()).then(|| UpdateView {
            full_name: payload.full_name.clone(),
            position: payload.position.clone(),
            phone: payload.phone.clone(),
            public: payload.set_public,
            new_address: payload.new_address,
        }),
    })
}
