//! `ipn sign`: a signed raw request from a template (or a file) with overrides, signed with the
//! key the configuration holds for the shop, mode and endpoint.

use std::path::Path;

use ipn_core::testkit::{FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, KeySlot, Mode, Scheme};
use serde_json::Value;

use crate::capture::parse_request;
use crate::settings::Settings;

/// What to sign.
#[derive(Debug, Clone)]
pub struct SignSpec {
    /// The scheme.
    pub scheme: Scheme,
    /// The mode (form, REST); `None`: TEST for a template, as written for a file.
    pub mode: Option<Mode>,
    /// A template name, or a file (a captured request, a form body, a JSON answer or body).
    pub template: Option<String>,
    /// Overrides: `name=value` (form field; for REST/link a JSON pointer or dotted path and a
    /// string), `path:=json` (REST/link, a raw JSON value).
    pub sets: Vec<String>,
    /// IPN (REST password) or browser return (REST HMAC key, form without `vads_hash`).
    pub endpoint: Endpoint,
    /// The shop (form, REST) when the configuration has several.
    pub shop: Option<String>,
    /// The application (link) when the configuration has several.
    pub application: Option<String>,
    /// The request target; default `/ipn` (`/ipn/link` for link).
    pub target: Option<String>,
    /// The `Date` of a link notification (default now).
    pub date: Option<time::OffsetDateTime>,
}

/// A `--set` override.
enum Override {
    Text(String, String),
    Json(String, Value),
}

fn parse_override(set: &str, json_allowed: bool) -> Result<Override, String> {
    let (name, value) = set.split_once('=').ok_or_else(|| format!("--set {set:?}: expected name=value"))?;
    if let Some(path) = name.strip_suffix(':') {
        if !json_allowed {
            return Err(format!("--set {set:?}: form fields are text; use name=value"));
        }
        let json =
            serde_json::from_str(value).map_err(|e| format!("--set {set:?}: the value after := is not JSON: {e}"))?;
        return Ok(Override::Json(path.to_owned(), json));
    }
    if name.is_empty() {
        return Err(format!("--set {set:?}: empty name"));
    }
    Ok(Override::Text(name.to_owned(), value.to_owned()))
}

/// A template argument that names a file rather than a template.
fn template_file(template: &str) -> Option<&Path> {
    let path = Path::new(template);
    (path.exists() || template.contains('/') || template.contains('.')).then_some(path)
}

/// The body of a file: a captured request's body, or the file itself (one trailing newline
/// dropped: editors add one).
fn file_body(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let looks_like_request = bytes.split(|&b| b == b'\n').next().is_some_and(|l| {
        let l = String::from_utf8_lossy(l);
        l.trim_end().ends_with("HTTP/1.1") || l.trim_end().ends_with("HTTP/1.0")
    });
    if looks_like_request {
        return parse_request(&bytes).map(|r| r.body().to_vec()).map_err(|e| format!("{}: {e}", path.display()));
    }
    let trimmed = bytes.strip_suffix(b"\r\n").or_else(|| bytes.strip_suffix(b"\n")).unwrap_or(&bytes);
    Ok(trimmed.to_vec())
}

fn json_file(path: &Path, field: Option<&str>) -> Result<Value, String> {
    let body = file_body(path)?;
    let text = match field {
        // A captured REST request: the answer is the kr-answer field.
        Some(field) if !body.trim_ascii_start().starts_with(b"{") => form_urlencoded::parse(&body)
            .find(|(n, _)| n == field)
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| format!("{}: neither a JSON document nor a form body with {field}", path.display()))?,
        _ => String::from_utf8(body).map_err(|_| format!("{}: not UTF-8", path.display()))?,
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

/// Builds and signs.
///
/// # Errors
///
/// A message for the user: unknown template, bad override, no key configured...
pub fn build(settings: &Settings, spec: &SignSpec) -> Result<RawRequest, String> {
    match spec.scheme {
        Scheme::Form => build_form(settings, spec),
        Scheme::Rest => build_rest(settings, spec),
        Scheme::Link => build_link(settings, spec),
    }
}

fn build_form(settings: &Settings, spec: &SignSpec) -> Result<RawRequest, String> {
    let mut builder = match spec.template.as_deref().map(|t| (t, template_file(t))) {
        Some((_, Some(path))) => {
            let body = file_body(path)?;
            let mut b =
                FormBuilder::from_fields(form_urlencoded::parse(&body).map(|(n, v)| (n.into_owned(), v.into_owned())));
            if let Some(shop) = &spec.shop {
                b = b.set("vads_site_id", shop.as_str());
            }
            b
        }
        Some((name, None)) => FormBuilder::new(
            FormTemplate::from_name(name).map_err(|e| e.to_string())?,
            &settings.shop(spec.shop.as_deref())?,
        )
        .mode(Mode::Test),
        None => FormBuilder::new(FormTemplate::Accepted, &settings.shop(spec.shop.as_deref())?).mode(Mode::Test),
    };
    if let Some(mode) = spec.mode {
        builder = builder.mode(mode);
    }
    if spec.endpoint == Endpoint::Return {
        builder = builder.browser_return();
    }
    for set in &spec.sets {
        match parse_override(set, false)? {
            Override::Text(name, value) => builder = builder.set(name, value),
            Override::Json(name, _) => return Err(format!("--set {name}:=...: form fields are text; use name=value")),
        }
    }
    if let Some(target) = &spec.target {
        builder = builder.target(target.as_str());
    }
    let shop_id = builder.get("vads_site_id").unwrap_or_default().to_owned();
    let mode_text = builder.get("vads_ctx_mode").unwrap_or_default();
    let mode = Mode::parse(mode_text).ok_or_else(|| format!("vads_ctx_mode is {mode_text:?}: TEST or PRODUCTION"))?;
    let slot = KeySlot::Form { shop_id: &shop_id, mode };
    let (key, algorithm) = settings.signing_key(slot).ok_or_else(|| format!("no {slot} in the configuration"))?;
    Ok(builder.sign(key.expose(), algorithm))
}

fn apply_json(sets: &[String], mut set: impl FnMut(&str, Value) -> Result<(), String>) -> Result<(), String> {
    for s in sets {
        match parse_override(s, true)? {
            Override::Text(path, value) => set(&path, Value::String(value))?,
            Override::Json(path, value) => set(&path, value)?,
        }
    }
    Ok(())
}

fn build_rest(settings: &Settings, spec: &SignSpec) -> Result<RawRequest, String> {
    let mut builder = match spec.template.as_deref().map(|t| (t, template_file(t))) {
        Some((_, Some(path))) => RestBuilder::from_answer(json_file(path, Some("kr-answer"))?),
        Some((name, None)) => RestBuilder::new(
            RestTemplate::from_name(name).map_err(|e| e.to_string())?,
            &settings.shop(spec.shop.as_deref())?,
        ),
        None => RestBuilder::new(RestTemplate::Payment, &settings.shop(spec.shop.as_deref())?),
    };
    if let Some(shop) = &spec.shop {
        builder = builder.set("shopId", Value::String(shop.clone())).map_err(|e| e.to_string())?;
    }
    if let Some(mode) = spec.mode {
        builder = builder.mode(mode);
    }
    apply_json(&spec.sets, |path, value| {
        builder = builder.clone().set(path, value).map_err(|e| e.to_string())?;
        Ok(())
    })?;
    if let Some(target) = &spec.target {
        builder = builder.target(target.as_str());
    }
    let answer = builder.answer();
    let shop_id = answer.get("shopId").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mode_text = answer.pointer("/orderDetails/mode").and_then(Value::as_str).unwrap_or_default();
    let mode =
        Mode::parse(mode_text).ok_or_else(|| format!("orderDetails.mode is {mode_text:?}: TEST or PRODUCTION"))?;
    let slot = match spec.endpoint {
        Endpoint::Ipn => KeySlot::RestPassword { shop_id: &shop_id, mode },
        Endpoint::Return => KeySlot::RestHmacKey { shop_id: &shop_id, mode },
    };
    let (key, _) = settings.signing_key(slot).ok_or_else(|| format!("no {slot} in the configuration"))?;
    Ok(builder.sign(key.expose(), spec.endpoint))
}

fn build_link(settings: &Settings, spec: &SignSpec) -> Result<RawRequest, String> {
    if spec.mode.is_some() {
        return Err("--mode has no meaning for link notifications (CentralBill has no TEST/PRODUCTION field)".into());
    }
    if spec.endpoint == Endpoint::Return {
        return Err("--endpoint return has no meaning for link notifications".into());
    }
    let application = settings.application(spec.application.as_deref())?;
    let mut builder = match spec.template.as_deref().map(|t| (t, template_file(t))) {
        Some((_, Some(path))) => LinkBuilder::from_body(json_file(path, None)?, &application),
        Some((name, None)) => LinkBuilder::new(LinkTemplate::from_name(name).map_err(|e| e.to_string())?, &application),
        None => LinkBuilder::new(LinkTemplate::Completed, &application),
    };
    apply_json(&spec.sets, |path, value| {
        builder = builder.clone().set(path, value).map_err(|e| e.to_string())?;
        Ok(())
    })?;
    if let Some(target) = &spec.target {
        builder = builder.target(target.as_str());
    }
    if let Some(date) = spec.date {
        builder = builder.date(date);
    }
    let slot = KeySlot::Application { application_id: &application };
    let (key, _) = settings.signing_key(slot).ok_or_else(|| format!("no {slot} in the configuration"))?;
    builder.sign(key.expose()).map_err(|e| e.to_string())
}
