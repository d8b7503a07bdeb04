//! `/admin/documents`: the catalogue of Đ9 as configured (`[documents]`), read-only, for every
//! administrator: the document kinds sent by e-mail alone, and the secrecy levels that are
//! refused at submission. It changes with the configuration file, not here.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use super::admin_or_return;
use crate::AppState;

pub(super) async fn documents(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let catalogue = &state.core.config().documents;
    let body = html! {
        h1 { (t.s("Danh mục văn bản (Điều 9)", "Document catalogue (Article 9)")) }
        p {
            (t.s(
                "Các loại văn bản gửi bằng bản điện tử qua thư điện tử, không kèm văn bản giấy. Danh mục do Ủy ban nhân dân tỉnh ban hành theo từng thời kỳ và được cấu hình trong mục [documents] của tệp cấu hình.",
                "Kinds of document sent electronically by e-mail, without a paper copy. The province's People's Committee sets the list from period to period; it is configured in the [documents] table of the configuration file."
            ))
        }
        div class="scroll" {
            table class="grid" id="document-kinds" {
                thead {
                    tr {
                        th scope="col" { (t.s("Mã", "Id")) }
                        th scope="col" { (t.s("Tên", "Name")) }
                        th scope="col" { (t.s("Tên tiếng Anh", "English name")) }
                    }
                }
                tbody {
                    @for k in &catalogue.kinds {
                        tr { td { code { (k.id) } } td { (k.name) } td { (k.name_en) } }
                    }
                }
            }
        }
        h2 { (t.s("Độ mật", "Secrecy levels")) }
        p {
            (t.s(
                "Văn bản mật không được gửi qua thư điện tử: thư được đánh dấu một trong các độ mật sau (trường X-Document-Classification, mục Độ mật khi soạn thư, hoặc đầu tiêu đề như \"[MẬT] …\", \"Tối mật: …\") bị từ chối khi gửi và được ghi vào nhật ký kiểm tra.",
                "Secret documents must not be sent by e-mail: a message marked with one of these levels (the X-Document-Classification field, the compose form's classification, or the subject's start such as \"[MẬT] …\", \"Tối mật: …\") is refused at submission and recorded in the audit log."
            ))
        }
        div class="scroll" {
            table class="grid" id="secrecy-levels" {
                thead {
                    tr {
                        th scope="col" { (t.s("Mã", "Id")) }
                        th scope="col" { (t.s("Tên", "Name")) }
                        th scope="col" { (t.s("Tên tiếng Anh", "English name")) }
                    }
                }
                tbody {
                    @for l in &catalogue.secrecy_levels {
                        tr { td { code { (l.id) } } td { (l.name) } td { (l.name_en) } }
                    }
                }
            }
        }
    };
    c.page(
        "/admin/documents",
        t.s("Danh mục văn bản", "Document catalogue"),
        body,
    )
}
