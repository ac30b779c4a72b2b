//! Received text made safe to print ([`Printable`]): control characters escaped, length bounded.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// The most characters a [`Printable`] writes, escapes included, before it cuts the text with
/// `…`.
pub const MAX_PRINTED_CHARS: usize = 256;

/// Text from a request, printed so that it cannot forge a log line nor drive a terminal: each
/// control character (`\n`, `\r`, the `ESC` of an ANSI sequence...) and each other character
/// that [`char::escape_debug`] escapes (line separators, bidirectional overrides) is written as
/// its escape (`\n`, `\u{1b}`), and the output stops at [`MAX_PRINTED_CHARS`] characters with
/// `…`. [`Display`](fmt::Display) leaves quotes and backslashes as they are;
/// [`Debug`](fmt::Debug) quotes the text and escapes them too.
///
/// The core's errors carry received text this way already (so their messages are safe in logs,
/// replies and records); wrap with it any received value a handler logs.
///
/// ```
/// use ipn_core::trace::Printable;
/// let received = "ORDER-1\nINFO forged line \u{1b}[31m";
/// assert_eq!(Printable(received).to_string(), r"ORDER-1\nINFO forged line \u{1b}[31m");
/// assert_eq!(format!("{:?}", Printable("a\"b")), r#""a\"b""#);
/// assert!(Printable(&"x".repeat(100_000)).to_string().chars().count() <= 257);
/// ```
#[derive(Clone, Copy)]
pub struct Printable<'a>(pub &'a str);

/// Whether `c` is printed escaped: what `escape_debug` escapes, but quotes and backslashes.
fn escaped(c: char) -> bool {
    !matches!(c, '"' | '\'' | '\\') && c.escape_debug().len() > 1
}

impl Printable<'_> {
    fn write(self, f: &mut fmt::Formatter<'_>, quoted: bool) -> fmt::Result {
        let mut written = 0;
        for c in self.0.chars() {
            let escape = escaped(c) || (quoted && matches!(c, '"' | '\\'));
            let width = if escape { c.escape_debug().len() } else { 1 };
            if written + width > MAX_PRINTED_CHARS {
                return f.write_char('…');
            }
            written += width;
            if escape {
                write!(f, "{}", c.escape_debug())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl fmt::Debug for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        self.write(f, true)?;
        f.write_char('"')
    }
}

/// `text` as [`Printable`] displays it, borrowed when that is `text` itself (the usual case).
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    let plain = |c: char| (' '..='~').contains(&c) || !escaped(c);
    if text.len() <= MAX_PRINTED_CHARS && text.chars().all(plain) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(Printable(text).to_string())
    }
}

/// `text` as [`Printable`] displays it, reusing its allocation when nothing changes.
pub(crate) fn printable_owned(text: String) -> String {
    match printable(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(printed) => printed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_every_control_character_and_bounds_the_length() {
        for c in (0..0x20_u32).chain(0x7f..0xa0).chain([0x2028, 0x2029, 0x202e, 0x2066, 0x200e, 0xfeff]) {
            let c = char::from_u32(c).unwrap();
            let text = format!("a{c}b");
            let printed = printable(&text);
            assert!(!printed.contains(c), "{c:?} printed raw: {printed:?}");
            assert_eq!(printed, format!("a{}b", c.escape_debug()));
            assert_eq!(printable(&printed), printed, "escaping is idempotent");
        }
        for plain in ["ORDER-1042", "Zoë Ångström 東京", r#"say "hi" \ it's"#, ""] {
            assert!(matches!(printable(plain), Cow::Borrowed(_)), "{plain}");
        }
        let long = "\u{1b}".repeat(100_000);
        let printed = printable(&long);
        assert!(printed.chars().count() <= MAX_PRINTED_CHARS + 1, "{}", printed.len());
        assert!(printed.ends_with('…') && printed.starts_with(r"\u{1b}"));
        assert_eq!(printable(&printed), printed, "cutting is idempotent");
        assert!(printable(&"é".repeat(300)).ends_with('…'));
    }
}
