//! Whitespace trimming exactly as `str::trim_start`, `trim_end` and `trim` do it (Unicode
//! `White_Space`), for header values: those a link verification reads several times each, and
//! the media type every request asks for.
//!
//! `core` decodes characters from each end until one is not whitespace: some 20 to 40
//! instructions a call, even when there is nothing to trim, which is the usual case. A byte above
//! the space and below 0x80 is a whole character that is never whitespace, so a value that
//! starts (ends) with one is returned as is; any other is handed to `core`.

/// Whether `byte` is a whole character (ASCII) that is not whitespace.
fn visible_ascii(byte: u8) -> bool {
    byte > b' ' && byte < 0x80
}

/// As [`str::trim_start`].
pub(crate) fn trim_start(text: &str) -> &str {
    match text.as_bytes().first() {
        Some(&byte) if visible_ascii(byte) => text,
        _ => text.trim_start(),
    }
}

/// As [`str::trim_end`].
pub(crate) fn trim_end(text: &str) -> &str {
    match text.as_bytes().last() {
        Some(&byte) if visible_ascii(byte) => text,
        _ => text.trim_end(),
    }
}

/// As [`str::trim`].
pub(crate) fn trim(text: &str) -> &str {
    trim_end(trim_start(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_as_core_does() {
        // Every ASCII character and some Unicode whitespace and non-whitespace, alone, at either
        // end or both, around ordinary text.
        let mut ends: Vec<String> = (0..0x80_u8).map(|b| char::from(b).to_string()).collect();
        ends.extend(
            ["\u{85}", "\u{a0}", "\u{2003}", "\u{3000}", "\u{feff}", "é", "\u{200b}", " \t", "\u{a0} "]
                .map(String::from),
        );
        ends.push(String::new());
        for start in &ends {
            for end in &ends {
                for middle in ["", "x", " ", "a b", "\u{a0}"] {
                    let text = format!("{start}{middle}{end}");
                    assert_eq!(trim_start(&text), text.trim_start(), "{text:?}");
                    assert_eq!(trim_end(&text), text.trim_end(), "{text:?}");
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                }
            }
        }
    }
}
