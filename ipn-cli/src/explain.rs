//! `ipn explain`: why a captured notification is rejected. It shows what was computed (the
//! signing string with the key's place in it named, the received signature, the first
//! characters of each expected one and whether the received one matches, the key slot tried)
//! and tests the usual mistakes one by one, saying which one matches.
//!
//! Its output is meant to be shared (SECURITY.md asks reporters for it), so it holds nothing
//! the request did not: no key, and no whole signature computed over the content shown, which
//! would sign that content for whoever wrote it. Keys are masked by position: the signing
//! strings are printed from their parts, with the key's slot named where the key goes (the
//! end of the form string; REST and link strings hold no key). The text is never searched for
//! a key: a replacement there would confirm a guessed key written into a field.

use std::fmt::Write as _;

use ipn_core::form::{self, FormFields};
use ipn_core::link::{self, SignatureParams};
use ipn_core::testkit::RawRequest;
use ipn_core::{Endpoint, FormAlgorithm, KeySlot, Mode, Receiver, Secret};
use serde_json::Value;

use crate::settings::Settings;

/// The explanation of one request.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// Whether the request verifies.
    pub valid: bool,
    /// The report, one finding per line; never a key.
    pub text: String,
}

/// What `explain` needs besides the request.
#[derive(Debug)]
pub struct Context<'a> {
    /// The configuration.
    pub settings: &'a Settings,
    /// The receiver used for the verdict (endpoint, clock, limits).
    pub receiver: &'a Receiver,
    /// The endpoint the request was posted to.
    pub endpoint: Endpoint,
    /// Print the expected signatures whole (local use with test keys), not their first
    /// characters.
    pub reveal_signatures: bool,
}

struct Report {
    text: String,
}

impl Report {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }
    fn hint(&mut self, hint: impl AsRef<str>) {
        let _ = writeln!(self.text, "  hint: {}", hint.as_ref());
    }
}

/// How many characters of an expected signature are printed: enough to compare by eye with the
/// received one, far too few to sign anything.
const SHOWN_PREFIX: usize = 6;

/// The line of an expected signature: its first characters (all of it when `reveal`) and
/// whether the received signature matches it.
fn expected_line(what: &str, expected: &str, matches: bool, reveal: bool) -> String {
    let shown = if reveal {
        format!("{expected:?}")
    } else {
        let prefix: String = expected.chars().take(SHOWN_PREFIX).collect();
        format!(
            "\"{prefix}...\" (first {SHOWN_PREFIX} of {} characters; --reveal-signature prints all)",
            expected.chars().count()
        )
    };
    let verdict = if matches { "the received signature matches" } else { "the received signature does NOT match" };
    format!("{what}: {shown}: {verdict}")
}

fn other(mode: Mode) -> Mode {
    match mode {
        Mode::Test => Mode::Production,
        Mode::Production => Mode::Test,
    }
}

/// Explains a request.
pub async fn explain(ctx: &Context<'_>, request: &RawRequest) -> Explanation {
    let mut r = Report { text: String::new() };
    let verdict = ctx.receiver.receive(request.view()).await;
    match &verdict {
        Ok(n) => r.line(format!("verdict: VALID {} notification ({})", n.scheme(), n.nature())),
        Err(rejected) => {
            r.line(format!("verdict: REJECTED: {}", rejected.error));
            r.line(format!("reply the sender gets: {} {:?}", rejected.reply.status(), rejected.reply.body()));
        }
    }
    r.line(format!(
        "request: {} {} ({} body bytes), endpoint {}",
        request.method(),
        request.target(),
        request.body().len(),
        ctx.endpoint.as_str()
    ));
    let is_json = request.header("content-type").map_or_else(
        || request.body().trim_ascii_start().starts_with(b"{"),
        |c| c.to_ascii_lowercase().contains("json"),
    );
    if is_json {
        explain_link(ctx, request, &mut r);
    } else {
        match FormFields::parse(request.body()) {
            Ok(fields) if fields.with_prefix("kr-").next().is_some() => explain_rest(ctx, &fields, &mut r),
            Ok(fields) if fields.with_prefix("vads_").next().is_some() => explain_form(ctx, &fields, request, &mut r),
            Ok(_) => r.line(
                "the body has neither vads_* nor kr-* fields: not a notification (or an empty POST after a redirect)",
            ),
            Err(e) => r.line(format!("the form body does not decode: {e}")),
        }
    }
    Explanation { valid: verdict.is_ok(), text: r.text }
}

fn form_matches(fields: &FormFields, keys: &[Secret], algorithm: FormAlgorithm, received: &str) -> bool {
    keys.iter().any(|k| form::sign(fields.iter(), k.expose(), algorithm) == received)
}

fn explain_form(ctx: &Context<'_>, fields: &FormFields, request: &RawRequest, r: &mut Report) {
    let s = ctx.settings;
    r.line("scheme: form (vads_* fields)");
    let (Some(shop_id), Some(mode_text)) = (fields.get("vads_site_id"), fields.get("vads_ctx_mode")) else {
        r.line("vads_site_id or vads_ctx_mode is missing: the key cannot be chosen");
        return;
    };
    let Some(mode) = Mode::parse(mode_text) else {
        r.line(format!("vads_ctx_mode is {mode_text:?}, neither TEST nor PRODUCTION"));
        return;
    };
    let slot = KeySlot::Form { shop_id, mode };
    let keys = s.keys(slot);
    let algorithm = s.form_algorithm(shop_id, mode);
    r.line(format!("key slot tried: {slot} ({} key(s) configured, algorithm {})", keys.len(), algorithm.as_str()));
    r.line(format!("signing string: {}<{slot}>", form::signing_payload(fields)));
    let received = fields.get("signature").unwrap_or("");
    r.line(format!("received signature: {received:?}"));
    for (i, key) in keys.iter().enumerate() {
        let expected = form::sign(fields.iter(), key.expose(), algorithm);
        let what = format!("expected signature (key #{})", i + 1);
        r.line(expected_line(&what, &expected, expected == received, ctx.reveal_signatures));
    }
    if keys.is_empty() {
        r.line(format!("no {slot} is configured; shops in the configuration: {}", s.shop_ids().join(", ")));
    }
    match (ctx.endpoint, fields.contains("vads_hash")) {
        (Endpoint::Ipn, false) => r.hint("no vads_hash: this is a browser return, not a server notification; use --endpoint return (and never update an order from it)"),
        (Endpoint::Return, true) => r.hint("vads_hash is present: this is a server notification (IPN); use --endpoint ipn"),
        _ => {}
    }
    if form_matches(fields, &keys, algorithm, received) {
        return;
    }
    let other_keys = s.keys(KeySlot::Form { shop_id, mode: other(mode) });
    let mut found = false;
    for alg in [FormAlgorithm::HmacSha256, FormAlgorithm::Sha1] {
        if form_matches(fields, &other_keys, alg, received) {
            found = true;
            r.hint(format!(
                "MATCH with the {} key: the notification says vads_ctx_mode={mode} but was signed with the {} key. The TEST and PRODUCTION keys are swapped (in the configuration or in the shop's Back Office), or the mode field was changed",
                other(mode),
                other(mode)
            ));
        }
    }
    let (sha1_shape, hmac_shape) = (received.len() == 40, received.len() == 44);
    let other_alg = match algorithm {
        FormAlgorithm::HmacSha256 => FormAlgorithm::Sha1,
        FormAlgorithm::Sha1 => FormAlgorithm::HmacSha256,
    };
    if form_matches(fields, &keys, other_alg, received) {
        found = true;
        r.hint(format!(
            "MATCH with {}: the shop's Back Office signs with {} but the configuration says algorithm = \"{}\"; set algorithm = \"{}\" for shop {shop_id} (SHA-1 is weak: prefer switching the Back Office to HMAC-SHA-256)",
            other_alg.as_str(), other_alg.as_str(), algorithm.as_str(), other_alg.as_str()
        ));
    } else if sha1_shape && algorithm == FormAlgorithm::HmacSha256 {
        r.hint("the signature is 40 hex characters (SHA-1) but the shop is configured for HMAC-SHA-256 (44 base64 characters): check the algorithm chosen in the Back Office");
    } else if hmac_shape && algorithm == FormAlgorithm::Sha1 {
        r.hint("the signature is 44 base64 characters (HMAC-SHA-256) but the shop is configured for SHA-1");
    } else if !sha1_shape && !hmac_shape {
        r.hint(format!(
            "the signature is {} characters: neither SHA-1 (40) nor HMAC-SHA-256 (44); was it truncated or re-encoded?",
            received.len()
        ));
    }
    for m in [mode, other(mode)] {
        for (kind, slot) in [
            ("REST API password", KeySlot::RestPassword { shop_id, mode: m }),
            ("REST HMAC-SHA-256 key", KeySlot::RestHmacKey { shop_id, mode: m }),
        ] {
            if form_matches(fields, &s.keys(slot), algorithm, received) {
                found = true;
                r.hint(format!("MATCH with the {m} {kind}: the form key (the Back Office 'certificate') is a different secret; configure it under [shops.form]"));
            }
        }
    }
    // Something between the gateway and the application may have re-encoded the body.
    let plus_kept = plus_kept_fields(request.body());
    let twice = fields.iter().map(|(n, v)| (n.to_owned(), percent_decode(v))).collect::<Vec<_>>();
    for (what, candidate) in [("'+' kept instead of read as a space", plus_kept), ("decoded twice", twice)] {
        let matches = keys.iter().any(|k| {
            form::sign(candidate.iter().map(|(n, v)| (n.as_str(), v.as_str())), k.expose(), algorithm) == received
        });
        if matches {
            found = true;
            r.hint(format!("MATCH once the values are {what}: the body was re-encoded between the gateway and the application; verify the raw bytes as received"));
        }
    }
    if !found && fields.iter().any(|(_, v)| v.contains('%')) {
        r.hint("some decoded values still contain '%': the body may have been encoded twice by a proxy or a framework");
    }
    if !found {
        r.hint("no usual mistake matches: check the key copied from the Back Office (no spaces, right shop) and that the body was not modified; every vads_* field received, even empty, is signed");
    }
}

fn percent_decode(value: &str) -> String {
    form_urlencoded::parse(format!("x={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Form fields decoded with `+` kept as `+` (as a decoder that ignores the form rules would).
fn plus_kept_fields(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body).replace('+', "%2B");
    form_urlencoded::parse(text.as_bytes()).map(|(n, v)| (n.into_owned(), v.into_owned())).collect()
}

fn explain_rest(ctx: &Context<'_>, fields: &FormFields, r: &mut Report) {
    let s = ctx.settings;
    r.line("scheme: rest (kr-* fields)");
    let answer = fields.get("kr-answer").unwrap_or("");
    let received = fields.get("kr-hash").unwrap_or("");
    let hash_key = fields.get("kr-hash-key").unwrap_or("");
    let json: Option<Value> = serde_json::from_str(answer).ok();
    let Some(json) = json else {
        r.line("kr-answer is not JSON: it cannot be read");
        return;
    };
    let shop_id = json.get("shopId").and_then(Value::as_str).unwrap_or("");
    let mode = json.pointer("/orderDetails/mode").and_then(Value::as_str).and_then(Mode::parse);
    let Some(mode) = mode else {
        r.line("orderDetails.mode is missing or neither TEST nor PRODUCTION: the key cannot be chosen");
        return;
    };
    let slot_for = |endpoint: Endpoint, mode: Mode| match endpoint {
        Endpoint::Ipn => KeySlot::RestPassword { shop_id, mode },
        Endpoint::Return => KeySlot::RestHmacKey { shop_id, mode },
    };
    let slot = slot_for(ctx.endpoint, mode);
    let keys = s.keys(slot);
    r.line(format!("key slot tried: {slot} ({} key(s) configured)", keys.len()));
    r.line(format!(
        "kr-hash-key: {hash_key:?} (this endpoint expects {:?})",
        if ctx.endpoint == Endpoint::Ipn { "password" } else { "sha256_hmac" }
    ));
    let message = answer.replace("\\/", "/");
    let preview: String = message.chars().take(240).collect();
    r.line(format!(
        "signed message: HMAC-SHA-256(<{slot}>, kr-answer with \\/ read as /), {} bytes: {preview}{}",
        message.len(),
        if preview.len() < message.len() { "..." } else { "" }
    ));
    r.line(format!("received kr-hash: {received:?}"));
    for (i, key) in keys.iter().enumerate() {
        let expected = ipn_core::rest::kr_hash(answer, key.expose());
        let what = format!("expected kr-hash (key #{})", i + 1);
        r.line(expected_line(&what, &expected, expected.eq_ignore_ascii_case(received), ctx.reveal_signatures));
    }
    let matches = |keys: &[Secret]| {
        keys.iter().any(|k| ipn_core::rest::kr_hash(answer, k.expose()).eq_ignore_ascii_case(received))
    };
    if matches(&keys) {
        return;
    }
    let mut found = false;
    let other_endpoint = match ctx.endpoint {
        Endpoint::Ipn => Endpoint::Return,
        Endpoint::Return => Endpoint::Ipn,
    };
    for m in [mode, other(mode)] {
        for endpoint in [ctx.endpoint, other_endpoint] {
            if (m, endpoint) == (mode, ctx.endpoint) {
                continue;
            }
            let candidate = slot_for(endpoint, m);
            if matches(&s.keys(candidate)) {
                found = true;
                let why = match (endpoint == ctx.endpoint, ctx.endpoint) {
                    (true, _) => format!("the answer says mode {mode} but was signed with the {m} key: TEST and PRODUCTION keys swapped"),
                    (false, Endpoint::Ipn) => "the REST HMAC-SHA-256 key was used where the REST password is expected: this is a browser return (verify it with --endpoint return), or the keys are swapped in the configuration".to_owned(),
                    (false, Endpoint::Return) => "the REST password was used where the HMAC-SHA-256 key is expected: this is an IPN (verify it with --endpoint ipn)".to_owned(),
                };
                r.hint(format!("MATCH with the {candidate}: {why}"));
            }
        }
        if matches(&s.keys(KeySlot::Form { shop_id, mode: m })) {
            found = true;
            r.hint(format!("MATCH with the {m} form key: REST answers are signed with the REST password (IPN) or HMAC key (return), not the form key"));
        }
    }
    if answer.contains('\n') || answer.contains("\": ") {
        r.hint("kr-answer is pretty-printed: something re-serialized it after the gateway signed it; the hash covers the exact string received");
        found = true;
    }
    if !found {
        r.hint("no usual mistake matches: check the REST keys copied from the Back Office (password for the IPN, HMAC-SHA-256 key for the browser return) and that kr-answer reached the application unchanged");
    }
}

/// The two `Digest` forms the verifier accepts (RFC 3230, and base64 of hex).
fn digest_of_variants(body: &[u8]) -> [String; 2] {
    [link::digest_header(body), link::digest_header_hex(body)]
}

/// JSON without the whitespace between tokens, strings untouched: undoes pretty-printing.
fn minify(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !b.is_ascii_whitespace() {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

fn explain_link(ctx: &Context<'_>, request: &RawRequest, r: &mut Report) {
    let s = ctx.settings;
    r.line("scheme: link (CentralBill JSON with HTTP Signature)");
    let mut signatures = Vec::new();
    if let Some(value) = request.header("signature") {
        signatures.push(("Signature", value.to_owned()));
    }
    if let Some(value) = request.header("authorization")
        && let Some(params) = value.trim().strip_prefix("Signature ")
    {
        signatures.push(("Authorization", params.to_owned()));
    }
    if signatures.is_empty() {
        r.line("no Signature nor Authorization: Signature header: the request is not signed (or a proxy stripped the header)");
    }
    // Date.
    match request.header("date") {
        None => r.hint("no Date header: it is signed and required; a proxy may have stripped it"),
        Some(date) => match link::parse_http_date(date) {
            None => r.hint(format!("the Date header {date:?} is not an HTTP date")),
            Some(at) => {
                let policy = ctx.receiver.verifier().policy();
                let skew = at - policy.clock().now();
                let window = policy.max_clock_skew().as_secs();
                r.line(format!(
                    "Date: {date} ({} s from the verification time, window ±{window} s)",
                    skew.whole_seconds()
                ));
                if skew.unsigned_abs() > policy.max_clock_skew() {
                    r.hint(format!("the Date is outside the window: clock skew between the sender and this machine, or a replayed/old capture; to check an old capture, rerun with --now {date:?}"));
                }
            }
        },
    }
    // Digest.
    let digest = request.header("digest");
    let covered_digest = signatures.iter().any(|(_, v)| SignatureParams::parse(v).is_ok_and(|p| p.covers("digest")));
    match digest {
        None if request.header("content-digest").is_none() => {
            r.hint(if covered_digest {
                "the signature covers digest but there is no Digest header: a proxy or load balancer stripped it; let it through unchanged"
            } else {
                "no Digest nor Content-Digest header: the body is not authenticated; a proxy may have stripped it"
            })
        }
        None => {}
        Some(digest) => {
            let body = request.body();
            let variants = digest_of_variants(body);
            if variants.iter().any(|v| v == digest.trim()) {
                r.line("Digest: matches the body");
            } else {
                r.line(format!("Digest: {digest} does NOT match the body (expected {} or {})", variants[0], variants[1]));
                let mut candidates: Vec<(&str, Vec<u8>)> = Vec::new();
                candidates.push(("the body without the whitespace between JSON tokens (it was pretty-printed)", minify(body)));
                if let Ok(json) = serde_json::from_slice::<Value>(body) {
                    candidates.push(("the body re-serialized as compact JSON", json.to_string().into_bytes()));
                    if let Ok(pretty) = serde_json::to_vec_pretty(&json) {
                        candidates.push(("the body pretty-printed", pretty));
                    }
                }
                candidates.push(("the body without its trailing newline", body.strip_suffix(b"\n").unwrap_or(body).to_vec()));
                let mut with_newline = body.to_vec();
                with_newline.push(b'\n');
                candidates.push(("the body with a trailing newline", with_newline));
                let hit = candidates.iter().find(|(_, c)| digest_of_variants(c).iter().any(|v| v == digest.trim()));
                match hit {
                    Some((what, _)) => r.hint(format!("MATCH: the Digest is that of {what}: the body was re-encoded between the sender and here; verify the exact bytes received")),
                    None => r.hint("the body was changed after signing (re-encoded JSON, altered amount...) or the Digest header was rewritten"),
                }
            }
        }
    }
    for (header, value) in &signatures {
        let params = match SignatureParams::parse(value) {
            Ok(p) => p,
            Err(e) => {
                r.line(format!("{header}: cannot be read: {e}"));
                continue;
            }
        };
        let application_id = params.key_id();
        let slot = KeySlot::Application { application_id };
        let keys = s.keys(slot);
        r.line(format!(
            "{header}: keyId {application_id:?}, algorithm {:?}, covers [{}]",
            params.algorithm(),
            params.components().join(" ")
        ));
        r.line(format!("key slot tried: {slot} ({} secret(s) configured)", keys.len()));
        if keys.is_empty() {
            r.line(format!("applications in the configuration: {}", s.application_ids().join(", ")));
        }
        let signing_string = match link::signing_string(request.view(), params.components()) {
            Ok(text) => text,
            Err(e) => {
                r.line(format!("signing string cannot be built: {e}"));
                if let ipn_core::Error::MissingHeader { header } = &e {
                    r.hint(format!("the signed header {header} is missing: a proxy stripped it"));
                }
                continue;
            }
        };
        r.line(format!("signing string (HMAC-SHA-256 with <{slot}>):"));
        for l in signing_string.lines() {
            r.line(format!("    {l}"));
        }
        let received = params.signature();
        r.line(format!("received signature: {received:?}"));
        for (i, key) in keys.iter().enumerate() {
            let expected = link::signature(&signing_string, key.expose());
            let what = format!("expected signature (secret #{})", i + 1);
            r.line(expected_line(&what, &expected, expected == received, ctx.reveal_signatures));
        }
        let matches = |keys: &[Secret]| keys.iter().any(|k| link::signature(&signing_string, k.expose()) == received);
        if matches(&keys) {
            continue;
        }
        for other_app in s.application_ids().iter().filter(|a| *a != application_id) {
            if matches(&s.keys(KeySlot::Application { application_id: other_app })) {
                r.hint(format!(
                    "MATCH with the secret of application {other_app}: the keyId and the secret do not belong together"
                ));
            }
        }
        if params.covers("(request-target)") {
            r.hint(format!("the signature covers (request-target) \"post {}\": a path rewritten by a proxy (prefix stripped, query changed) breaks it", request.target()));
        }
    }
}
