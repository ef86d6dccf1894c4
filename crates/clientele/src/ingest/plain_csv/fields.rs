//! Fields, lines and headers of plain CSV text.

use super::{Layout, NOT_A_ROLE, ROLES, Settings};

/// The end (after the `\n`) of the last line in `bytes` that ends outside quotes. Blocks
/// start at line starts, outside quotes, so quote parity tells inside from outside.
pub(super) fn last_line_end(bytes: &[u8], quote: Option<u8>) -> Option<usize> {
    match quote.filter(|q| memchr::memchr(*q, bytes).is_some()) {
        None => memchr::memrchr(b'\n', bytes).map(|i| i + 1),
        Some(q) => {
            let mut inside = false;
            let mut last = None;
            for i in memchr::memchr2_iter(q, b'\n', bytes) {
                if bytes[i] == q {
                    inside = !inside;
                } else if !inside {
                    last = Some(i + 1);
                }
            }
            last
        }
    }
}

/// One field of a line: its text range, whether `""` escapes must be undone, and where the
/// next field or line starts.
pub(super) struct Field {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) escaped: bool,
    /// Whether the field was quoted: `""` is then an empty text, not a missing value.
    pub(super) quoted: bool,
    pub(super) next: usize,
    pub(super) line_ends: bool,
}

/// Reads the field at `pos`; an error says why the line is not plain.
#[inline]
pub(super) fn next_field(
    bytes: &[u8],
    pos: usize,
    settings: &Settings,
) -> std::result::Result<Field, String> {
    split_field(bytes, pos, settings.separator, settings.quote)
}

/// Reads the field at `pos` of a line of fields separated by `separator`, maybe quoted with
/// `quote`; an error says why the line is not plain.
#[inline]
pub(super) fn split_field(
    bytes: &[u8],
    pos: usize,
    separator: u8,
    quote: Option<u8>,
) -> std::result::Result<Field, String> {
    let (start, end, escaped, after) = match quote {
        Some(q) if bytes.get(pos) == Some(&q) => {
            let mut p = pos + 1;
            let mut escaped = false;
            loop {
                match memchr::memchr(q, &bytes[p..]) {
                    None => return Err("a quoted field does not end".into()),
                    Some(k) if bytes.get(p + k + 1) == Some(&q) => {
                        escaped = true;
                        p += k + 2;
                    }
                    Some(k) => break (pos + 1, p + k, escaped, p + k + 1),
                }
            }
        }
        quote => {
            // Fields are short: a plain loop beats a vectorised search's set-up.
            let q = quote.unwrap_or(separator);
            let mut end = pos;
            while end < bytes.len() {
                let byte = bytes[end];
                if byte == separator || byte == b'\n' || byte == q {
                    break;
                }
                end += 1;
            }
            if quote.is_some_and(|q| bytes.get(end) == Some(&q)) {
                return Err("a quote inside an unquoted field".into());
            }
            let k = end - pos;
            if bytes.get(end) == Some(&b'\n') && end > pos && bytes[end - 1] == b'\r' {
                end -= 1;
                return Ok(Field {
                    start: pos,
                    end,
                    escaped: false,
                    quoted: false,
                    next: pos + k + 1,
                    line_ends: true,
                });
            }
            (pos, end, false, end)
        }
    };
    let (next, line_ends) = match bytes.get(after) {
        Some(b) if *b == separator => (after + 1, false),
        Some(b'\n') | None => (after + 1, true),
        Some(b'\r') if bytes.get(after + 1) == Some(&b'\n') => (after + 2, true),
        Some(_) => return Err("text after a closing quote".into()),
    };
    Ok(Field {
        start,
        end,
        escaped,
        quoted: start != pos,
        next,
        line_ends,
    })
}

/// A field's value as polars reads it: missing when empty and not quoted.
pub(super) fn field_value<'t>(
    text: &'t str,
    field: &Field,
    quote: Option<u8>,
) -> Option<std::borrow::Cow<'t, str>> {
    let value = field_text(text, field, quote);
    (field.quoted || !value.is_empty()).then_some(value)
}

/// A field's text, quotes undone.
pub(super) fn field_text<'t>(text: &'t str, field: &Field, quote: Option<u8>) -> std::borrow::Cow<'t, str> {
    let raw = &text[field.start..field.end];
    match quote {
        Some(q) if field.escaped => {
            let q = char::from(q).to_string();
            std::borrow::Cow::Owned(raw.replace(&q.repeat(2), &q))
        }
        _ => std::borrow::Cow::Borrowed(raw),
    }
}

/// The role of each field from the header (or `column_N` names without one), and where the
/// data starts.
pub(super) fn layout_of(
    bytes: &[u8],
    header: bool,
    names: &[Option<&str>; ROLES],
    settings: &Settings,
) -> std::result::Result<(Layout, usize), String> {
    if bytes.starts_with("\u{feff}".as_bytes()) {
        return Err("starts with a byte-order mark".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8".to_string())?;
    let mut fields = Vec::new();
    let mut pos = 0;
    loop {
        let field = next_field(bytes, pos, settings)?;
        fields.push(field_text(text, &field, settings.quote).into_owned());
        pos = field.next;
        if field.line_ends {
            break;
        }
    }
    let found: Vec<String> = if header {
        fields
    } else {
        (1..=fields.len()).map(|i| format!("column_{i}")).collect()
    };
    if settings.header != found {
        return Err("names its columns otherwise than polars reads them".into());
    }
    let mut role_of_field = vec![NOT_A_ROLE; found.len()];
    for (role, name) in names.iter().enumerate() {
        let Some(name) = name else { continue };
        let mut at = found.iter().enumerate().filter(|(_, f)| f == name);
        match (at.next(), at.next()) {
            (Some((i, _)), None) => role_of_field[i] = role as u8,
            (None, _) => return Err(format!("has no column {name:?}")),
            (Some(_), Some(_)) => return Err(format!("has two columns named {name:?}")),
        }
    }
    Ok((
        Layout { role_of_field },
        if header { pos.min(bytes.len()) } else { 0 },
    ))
}

#[cfg(test)]
mod tests {
    use super::super::values::TimeShape;
    use super::*;

    fn settings(quote: Option<u8>) -> Settings {
        Settings {
            separator: b',',
            quote,
            time: TimeShape::Seconds(b' '),
            decimal_comma: false,
            rules: crate::rows::rules::RowRules::new(&crate::rows::RowPolicy::default()),
            has_order: true,
            has_price: false,
            keep_excluded: false,
            all_fields: None,
            hash_rows: false,
            header: Vec::new(),
            lines: None,
        }
    }

    #[test]
    fn fields_handle_quotes_crlf_and_refuse_stray_quotes() {
        let s = settings(Some(b'"'));
        let line = b"\"a,\"\"b\"\",c\",2\r\nnext";
        let text = std::str::from_utf8(line).unwrap();
        let first = next_field(line, 0, &s).unwrap();
        assert_eq!(field_text(text, &first, s.quote), "a,\"b\",c");
        let second = next_field(line, first.next, &s).unwrap();
        assert!(second.line_ends);
        assert_eq!(field_text(text, &second, s.quote), "2");
        assert_eq!(&line[second.next..], b"next");
        assert!(next_field(b"5\" screen,1\n", 0, &s).is_err());
        assert!(next_field(b"\"open,1\n", 0, &s).is_err());
    }

    #[test]
    fn blocks_end_at_line_ends_outside_quotes() {
        assert_eq!(last_line_end(b"a,1\nb,2\nc,", Some(b'"')), Some(8));
        assert_eq!(last_line_end(b"a,1\n\"b\n2\",3\nc", Some(b'"')), Some(12));
        assert_eq!(last_line_end(b"a,1\n\"b\n2", Some(b'"')), Some(4));
        assert_eq!(last_line_end(b"no line end", None), None);
    }
}
