//! The catalogue of document kinds that may go by e-mail alone (Đ9).
//!
//! Until the catalogue is configuration, the kinds are Đ9's own list.

use crate::config::Config;

/// (id, Vietnamese name) of each document kind, in the catalogue's order.
pub(crate) fn kinds(_config: &Config) -> Vec<(String, String)> {
    [
        ("lich_cong_tac", "Lịch công tác"),
        ("giay_moi", "Giấy mời"),
        ("tai_lieu_hop", "Tài liệu họp"),
        ("de_biet", "Văn bản để biết, để báo cáo"),
        ("cong_van", "Công văn"),
        ("bao_cao", "Báo cáo"),
        ("chi_thi", "Chỉ thị"),
    ]
    .into_iter()
    .map(|(id, name)| (id.to_string(), name.to_string()))
    .collect()
}
