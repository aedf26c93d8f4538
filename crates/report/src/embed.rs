//! JSON inside `<script type="application/json">`: the HTML parser ends a script element at the
//! first `</script` and treats `<!--` specially, whatever the JSON means. Escaping `<`, `>` and
//! `&` as `\u003c`, `\u003e`, `\u0026` keeps every byte of the text out of the parser's way and
//! still parses to the same value with `JSON.parse`.

use serde::Serialize;

/// `value` as JSON that is safe to place verbatim inside a `<script>` element.
pub fn script_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let json = serde_json::to_string(value)?;
    Ok(escape_for_script(&json))
}

/// Escapes serialised JSON for a script element. `<`, `>` and `&` can only occur inside JSON
/// strings, where the `\uXXXX` forms mean the same characters; U+2028/U+2029 are escaped too for
/// tools that still read the block as JavaScript.
pub fn escape_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_tags_and_comments_cannot_escape() {
        let nasty = "</script><script>alert(1)</script><!-- & \u{2028}";
        let out = script_json(&serde_json::json!({ "id": nasty })).unwrap();
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('&'));
        assert!(!out.to_lowercase().contains("</script"));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["id"], nasty);
    }
}
