//! HTML mail made safe to show: ammonia keeps a list of harmless tags and attributes (no
//! script, no event handler, no `<style>`, no form, no frame), `cid:` images become `data:`
//! URLs of the message's own parts, and remote images are removed unless the reader asked
//! for them. The result is still shown only inside a sandboxed iframe whose response carries
//! a CSP that forbids scripts, so a gap in one layer is closed by the other.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;

/// Sanitises `html`; `inline` maps a Content-ID to (content type, bytes).
/// Returns the safe HTML and whether remote images were removed.
pub(crate) fn clean(
    html: &str,
    inline: HashMap<String, (String, Vec<u8>)>,
    remote_images: bool,
) -> (String, bool) {
    let blocked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = blocked.clone();
    let data_urls: HashMap<String, String> = inline
        .into_iter()
        .filter(|(_, (ct, _))| ct.starts_with("image/"))
        .map(|(cid, (ct, bytes))| {
            (
                cid,
                format!(
                    "data:{ct};base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                ),
            )
        })
        .collect();
    let mut builder = ammonia::Builder::default();
    builder
        .add_generic_attributes(["style", "align", "valign", "bgcolor", "width", "height"])
        .add_tag_attributes("font", ["color", "face", "size"])
        .add_tag_attributes("table", ["border", "cellpadding", "cellspacing"])
        // `data:` and `cid:` pass the scheme check only to reach the filter below, which
        // keeps `data:image/…` on images and turns `cid:` into them; elsewhere both go.
        .url_schemes(
            ["http", "https", "mailto", "tel", "data", "cid"]
                .into_iter()
                .collect(),
        )
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            let lower = value.trim_start().to_ascii_lowercase();
            if element == "img" && attribute == "src" {
                if let Some(cid) = lower.strip_prefix("cid:") {
                    let original = &value.trim_start()[4..];
                    return data_urls
                        .get(original)
                        .or_else(|| data_urls.get(cid))
                        .map(|d| Cow::Owned(d.clone()));
                }
                if lower.starts_with("data:image/") {
                    return Some(Cow::Borrowed(value));
                }
                if !remote_images {
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    return None;
                }
                return Some(Cow::Borrowed(value));
            }
            if lower.starts_with("data:") || lower.starts_with("cid:") {
                return None;
            }
            if attribute == "style" {
                // No remote fetches from CSS (tracking pixels in backgrounds), and nothing
                // that could reach outside the frame's box.
                if lower.contains("url(")
                    || lower.contains("expression")
                    || lower.contains("position")
                    || lower.contains("@import")
                {
                    return None;
                }
            }
            if attribute == "background" {
                return None;
            }
            Some(Cow::Borrowed(value))
        });
    let safe = builder.clean(html).to_string();
    (safe, blocked.load(std::sync::atomic::Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_go() {
        let (out, _) = clean(
            r#"<p onclick="x()">a</p><script>alert(1)</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">l</a><iframe src="//e"></iframe><style>body{}</style><svg onload=alert(1)>"#,
            HashMap::new(),
            false,
        );
        for bad in [
            "script",
            "onclick",
            "onerror",
            "javascript",
            "iframe",
            "style",
            "onload",
        ] {
            assert!(!out.to_ascii_lowercase().contains(bad), "{bad} in {out}");
        }
        assert!(out.contains("<p>a</p>"));
    }

    #[test]
    fn remote_images_wait_for_the_reader() {
        let html = r#"<img src="https://tracker.example/p.gif" alt="p">"#;
        let (out, blocked) = clean(html, HashMap::new(), false);
        assert!(blocked);
        assert!(!out.contains("tracker"));
        let (out, blocked) = clean(html, HashMap::new(), true);
        assert!(!blocked);
        assert!(out.contains("https://tracker.example/p.gif"));
    }

    #[test]
    fn cid_images_become_data_urls() {
        let mut inline = HashMap::new();
        inline.insert(
            "logo@x".to_string(),
            ("image/png".to_string(), vec![1, 2, 3]),
        );
        let (out, _) = clean(r#"<img src="cid:logo@x">"#, inline, false);
        assert!(out.contains("data:image/png;base64,AQID"), "{out}");
        let (out, _) = clean(
            r#"<a href="data:text/html,<script>alert(1)</script>">x</a><p style="background:url(https://t/x)">y</p>"#,
            HashMap::new(),
            false,
        );
        assert!(!out.contains("data:"), "{out}");
        assert!(!out.contains("url("), "{out}");
    }
}
