//! How numbers and values are written for people: counts with thousands separators, money,
//! shares, and values quoted in messages, cut to a bounded length.
//!
//! One home for these so that the report, the data-quality page, the command line and every
//! error message write a number or a value the same way.

/// The longest value, in characters, that a message quotes whole.
pub const QUOTE_LIMIT: usize = 80;

/// The longest message text, in characters, kept whole by [`clip_message`].
pub const MESSAGE_LIMIT: usize = 1_000;

/// `1234567` → `"1,234,567"`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234.5` → `"1,234.50"`.
pub fn format_money(x: f64) -> String {
    let sign = if x < 0.0 { "-" } else { "" };
    let cents = (x.abs() * 100.0).round() as u64;
    format!("{sign}{}.{:02}", format_count(cents / 100), cents % 100)
}

/// `0.0512` → `"5.1 %"`.
pub fn format_share(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// A value quoted for a message: `"abc"` (escaped like Rust's `{:?}`), or for a value longer
/// than [`QUOTE_LIMIT`] characters its first 80 characters, an ellipsis and the full length,
/// so one bad 10 MB line never floods a terminal or a log.
///
/// ```
/// use clientele::format::quote;
/// assert_eq!(quote("12.5"), "\"12.5\"");
/// let long = "x".repeat(100_000);
/// assert_eq!(quote(&long), format!("\"{}…\" (100,000 characters)", "x".repeat(80)));
/// ```
pub fn quote(value: &str) -> String {
    let length = value.chars().count();
    if length <= QUOTE_LIMIT {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(QUOTE_LIMIT).collect();
    let escaped = format!("{head:?}");
    format!(
        "{}…\" ({} characters)",
        &escaped[..escaped.len() - 1],
        format_count(length as u64)
    )
}

/// A message made safe to print whatever it quotes: every run of more than [`QUOTE_LIMIT`]
/// characters between a pair of quotes (`"…"`, `` `…` ``, `'…'`) is cut as [`quote`] cuts it,
/// and a message still longer than [`MESSAGE_LIMIT`] characters is cut there, with its full
/// length. Messages from other libraries (polars quotes whole CSV lines) go through this
/// before they reach a user.
///
/// ```
/// use clientele::format::clip_message;
/// let line = "a,".repeat(5_000);
/// let message = format!("could not parse `{line}` as dtype i64");
/// let clipped = clip_message(&message);
/// assert!(clipped.len() < 200, "{clipped}");
/// assert!(clipped.ends_with("as dtype i64"));
/// ```
pub fn clip_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MESSAGE_LIMIT + 64));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`', '\'']) {
        let quote_char = rest[open..].chars().next().unwrap_or('"');
        let body_start = open + quote_char.len_utf8();
        let Some(close) = rest[body_start..].find(quote_char) else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        out.push_str(&rest[..body_start]);
        let length = body.chars().count();
        if length > QUOTE_LIMIT {
            out.extend(body.chars().take(QUOTE_LIMIT));
            out.push('…');
            out.push(quote_char);
            out.push_str(&format!(" ({} characters)", format_count(length as u64)));
        } else {
            out.push_str(body);
            out.push(quote_char);
        }
        rest = &rest[body_start + close + quote_char.len_utf8()..];
    }
    out.push_str(rest);
    let length = out.chars().count();
    if length <= MESSAGE_LIMIT {
        return out;
    }
    let head: String = out.chars().take(MESSAGE_LIMIT).collect();
    format!(
        "{head}… (message of {} characters cut)",
        format_count(length as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_money_and_shares() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(1_234_567), "1,234,567");
        assert_eq!(format_money(-1234.5), "-1,234.50");
        assert_eq!(format_share(0.0512), "5.1 %");
    }

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote(&"é".repeat(80)), format!("{:?}", "é".repeat(80)));
    }

    #[test]
    fn long_values_are_cut_on_characters_not_bytes() {
        let q = quote(&"é".repeat(81));
        assert_eq!(q, format!("\"{}…\" (81 characters)", "é".repeat(80)));
    }

    #[test]
    fn messages_keep_short_quotes_and_cut_long_ones() {
        assert_eq!(clip_message("column \"a\" and 'b'"), "column \"a\" and 'b'");
        let m = clip_message(&format!("x \"{}\" y", "z".repeat(200)));
        assert_eq!(m, format!("x \"{}…\" (200 characters) y", "z".repeat(80)));
        // An unclosed quote leaves the rest to the overall cut.
        let m = clip_message(&format!("stray \"{}", "q".repeat(5_000)));
        assert!(m.chars().count() < MESSAGE_LIMIT + 60, "{m}");
        assert!(m.ends_with("(message of 5,007 characters cut)"), "{m}");
    }
}
