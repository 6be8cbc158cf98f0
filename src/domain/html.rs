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
        "style" => inert_style(value),
        _ => Some(Cow::Borrowed(value)),
    });
    b
});

/// The declarations of a `style` attribute whose values are plain colours, lengths and keywords
/// (`rgb(230, 0, 0)`, `#e60000`, `center`). Anything that can load or run something
/// (`expression(…)`, `url(…)`, escapes, `behavior`, `-moz-binding`, `@import`) is dropped.
fn inert_style(value: &str) -> Option<Cow<'_, str>> {
    let kept: Vec<&str> = value
        .split(';')
        .map(str::trim)
        .filter(|decl| {
            let Some((_, v)) = decl.split_once(':') else {
                return false;
            };
            let lower = v.to_ascii_lowercase();
            !lower.trim().is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " #(),.%-".contains(c))
                && ![
                    "expression",
                    "url",
                    "binding",
                    "behavior",
                    "import",
                    "javascript",
                ]
                .iter()
                .any(|bad| lower.contains(bad))
        })
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join(";")))
}

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
///
/// The result is a fixed point of `peel` (an HTML parser reads it back as exactly itself) by
/// construction, not by a round count: a round that changes the text removes markup or
/// collapses an entity, so it shortens the text, and the loop ends after at most as many rounds
/// as the text has characters (inputs are length-checked before they come here). Should a round
/// ever change the text without shortening it, the characters that can start markup (`<`, `&`)
/// are dropped, which leaves a text with nothing for a parser to read as markup.
pub fn plain_text(raw: &str) -> String {
    let mut current = raw.to_string();
    loop {
        let next = peel(&current);
        if next == current {
            return current;
        }
        if next.chars().count() >= current.chars().count() {
            let inert: String = next.chars().filter(|c| !matches!(c, '<' | '&')).collect();
            debug_assert_eq!(peel(&inert), inert);
            return inert;
        }
        current = next;
    }
}

/// One layer of markup off: what an HTML parser shows of `s`, as plain characters.
fn peel(s: &str) -> String {
    unescape(&TEXT.clean(s).to_string())
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

    /// `text` escaped `depth` times, as a client could send it.
    fn escaped(text: &str, depth: usize) -> String {
        (0..depth).fold(text.to_string(), |t, _| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        })
    }

    #[test]
    fn plain_text_unwraps_any_number_of_escapes() {
        // Eight rounds were the old limit: text escaped eight times came back as live markup.
        let eight = escaped("<img src=x onerror=alert(1)>", 8);
        assert_eq!(
            eight,
            "&amp;amp;amp;amp;amp;amp;amp;lt;img src=x onerror=alert(1)&amp;amp;amp;amp;amp;amp;amp;gt;"
        );
        assert_eq!(plain_text(&eight), "");
        for depth in 0..40 {
            let out = plain_text(&format!(
                "hi {}",
                escaped("<script>x</script><b>b</b>", depth)
            ));
            assert_eq!(out, "hi b", "depth {depth}");
        }
    }

    #[test]
    fn plain_text_is_a_fixed_point_for_generated_nestings() {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("<".to_string()),
            Just(">".to_string()),
            Just("&".to_string()),
            Just("&amp;".to_string()),
            Just("&lt;".to_string()),
            Just("&gt;".to_string()),
            Just("&quot;".to_string()),
            Just("&nbsp;".to_string()),
            Just("&#60;".to_string()),
            Just("&#x3c;".to_string()),
            Just("<img src=x onerror=alert(1)>".to_string()),
            Just("<script>".to_string()),
            Just("</script>".to_string()),
            Just("<!--".to_string()),
            Just("-->".to_string()),
            Just("<b>".to_string()),
            Just("\0".to_string()),
            "[a-z가-힣 ]{0,4}",
        ];
        let input = (prop::collection::vec(piece, 0..12), 0usize..12)
            .prop_map(|(pieces, depth)| escaped(&pieces.concat(), depth));
        proptest!(ProptestConfig::with_cases(2000), |(raw in input)| {
            let out = plain_text(&raw);
            // Inserted as HTML, the stored text shows exactly itself: no tag, no entity left.
            prop_assert_eq!(peel(&out), out.clone());
            prop_assert_eq!(plain_text(&out), out.clone());
            let opens_a_tag = out.as_bytes().windows(2).any(|w| {
                w[0] == b'<' && (w[1].is_ascii_alphabetic() || b"/!?".contains(&w[1]))
            });
            prop_assert!(!opens_a_tag, "{}", out);
        });
    }

    #[test]
    fn styles_that_can_run_code_are_dropped() {
        let clean = sanitize_diary_html(
            r#"<p><span style="background-color:expression(alert(1)); color: rgb(230, 0, 0)">a</span><span style="color:url(javascript:alert(1))">b</span><span style="color:\65xpression(x)">c</span><span style="text-align:center">d</span></p>"#,
        );
        for bad in ["expression", "url", "javascript", "\\"] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains("color:rgb(230, 0, 0)"), "{clean}");
        assert!(clean.contains("text-align:center"), "{clean}");
    }

    #[test]
    fn visible_text_reads_like_a_person() {
        assert_eq!(visible_text("<p>하나</p><p>둘 &amp; 셋</p>"), "하나둘 & 셋");
        assert_eq!(visible_text("<p><br></p>"), "");
    }
}
