//! What users write, made safe to show: diary content is the ReactQuill editor's HTML, kept
//! with its formatting and stripped of anything that runs (ammonia, an allow-list sanitizer);
//! comments and replies are plain text that holds no markup at all.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The formatting ReactQuill produces: blocks, inline styles, lists, links, its `ql-*` classes
/// and a few colour and alignment styles. Scripts, event handlers, `javascript:` URLs, frames,
/// forms, images (the drawing travels apart) and unknown classes do not survive.
static DIARY: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    b.add_tags([
        "p",
        "br",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "strike",
        "sub",
        "sup",
        "h1",
        "h2",
        "h3",
        "blockquote",
        "pre",
        "code",
        "ol",
        "ul",
        "li",
        "a",
    ])
    .add_generic_attributes(["class", "style"])
    .add_tag_attributes("a", ["href", "target"])
    .add_tag_attributes("li", ["data-list"])
    .url_schemes(HashSet::from(["http", "https", "mailto"]))
    .link_rel(Some("noopener noreferrer nofollow"))
    .filter_style_properties(HashSet::from(["color", "background-color", "text-align"]))
    .attribute_filter(|_element, attribute, value| match attribute {
        "class" => {
            let kept: Vec<&str> = value
                .split_ascii_whitespace()
                .filter(|c| c.starts_with("ql-") && c.len() <= 40)
                .collect();
            (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
        }
        "target" => (value == "_blank").then_some(Cow::Borrowed(value)),
        _ => Some(Cow::Borrowed(value)),
    });
    b
});

/// No tags at all; the text of whatever was markup is kept, scripts and styles go whole.
static TEXT: LazyLock<ammonia::Builder<'static>> = LazyLock::new(ammonia::Builder::empty);

/// Diary content as stored and served: the editor's HTML with everything active removed.
pub fn sanitize_diary_html(raw: &str) -> String {
    DIARY.clean(raw).to_string()
}

/// The words of a piece of HTML as a reader sees them (for counting and for exports).
pub fn visible_text(html: &str) -> String {
    unescape(&TEXT.clean(html).to_string())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Comment text: markup is removed until none is left, so the result shows the same whether a
/// client prints it as text (as the NINE Cloud front end does) or inserts it as HTML. Ordinary
/// characters stay as typed: `Tom & Jerry <3` is stored as `Tom & Jerry <3`.
pub fn plain_text(raw: &str) -> String {
    let mut current = raw.to_string();
    // Each round removes one layer of escaped markup (`&lt;script&gt;` → `<script>` → gone);
    // a fixed point is text an HTML parser reads back as exactly itself.
    for _ in 0..8 {
        let next = unescape(&TEXT.clean(&current).to_string());
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// Undoes the escaping ammonia's serializer applies to text.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diary_html_keeps_formatting_and_drops_what_runs() {
        let quill = r#"<p class="ql-align-center"><strong>오늘</strong> <em>맑음</em></p><ol><li data-list="bullet">하나</li></ol><p><span style="color: rgb(230, 0, 0);">빨강</span></p>"#;
        let clean = sanitize_diary_html(quill);
        assert!(clean.contains(r#"<p class="ql-align-center"><strong>오늘</strong>"#));
        assert!(
            clean.contains("<li data-list=\"bullet\">하나</li>"),
            "{clean}"
        );
        assert!(clean.contains("color:rgb(230, 0, 0)"), "{clean}");

        let hostile = r#"<p onclick="steal()">hi<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a><iframe src="https://evil"></iframe><span class="evil ql-size-large" style="position:fixed">s</span><svg onload=alert(4)></svg></p>"#;
        let clean = sanitize_diary_html(hostile);
        for bad in [
            "onclick",
            "script",
            "alert",
            "onerror",
            "<img",
            "javascript",
            "iframe",
            "evil",
            "position",
            "svg",
            "onload",
        ] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains(r#"<span class="ql-size-large""#), "{clean}");
        let link = sanitize_diary_html(r#"<a href="https://nine.cloud" target="_top">n</a>"#);
        assert_eq!(
            link,
            r#"<a href="https://nine.cloud" rel="noopener noreferrer nofollow">n</a>"#
        );
    }

    #[test]
    fn plain_text_holds_no_markup_and_keeps_ordinary_characters() {
        assert_eq!(plain_text("Tom & Jerry <3"), "Tom & Jerry <3");
        assert_eq!(plain_text("좋아요 :) 1 < 2 > 0"), "좋아요 :) 1 < 2 > 0");
        assert_eq!(plain_text("<b>굵게</b> 댓글"), "굵게 댓글");
        assert_eq!(plain_text("<script>alert(1)</script>안녕"), "안녕");
        assert_eq!(plain_text("&lt;script&gt;alert(1)&lt;/script&gt;"), "");
        assert_eq!(plain_text("<img src=x onerror=alert(1)>"), "");
        let once = plain_text("&amp;lt;b&amp;gt;x");
        assert_eq!(plain_text(&once), once, "a stored comment is a fixed point");
    }

    #[test]
    fn visible_text_reads_like_a_person() {
        assert_eq!(visible_text("<p>하나</p><p>둘 &amp; 셋</p>"), "하나둘 & 셋");
        assert_eq!(visible_text("<p><br></p>"), "");
    }
}
