//! Every signature-preserving re-labelling of a signed form message, searched exhaustively.
//!
//! The form signature covers the sorted values joined with `+` (PROTOCOLS 1.1 item 8), so the
//! signed string cut at its `+` is a list of tokens, and every re-labelling that keeps the
//! signature is two choices: a partition of the tokens into consecutive values (renames, splits
//! at `+` and merges are all partitions), and a strictly increasing sequence of accepted names
//! (the dictionary's, the product line families, the configured extra fields), one per value,
//! each value passing its name's format. The search walks (token, name) with memoised results,
//! so it is exhaustive and still fast: what it remembers of a re-labelling is only what the
//! identity and the structural rules read, as a difference from the genuine message: which
//! [`IDENTITY`] and [`form::structural_names`] fields hold a value, and the identity values that
//! differ from the genuine ones. Any other field is interchangeable with its neighbours of the
//! same format, and two re-labellings that differ only in where a genuine value came from mean
//! the same.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use crate::form::{self, ExtraFields, FieldFormat, FormFields, Strictness};
use crate::types::Endpoint;

/// The fields whose values make what a form IPN means: shop, mode, transaction, order, amount,
/// currency, status, operation, token, source, and the date the fingerprint reads.
pub const IDENTITY: [&str; 13] = [
    "vads_amount",
    "vads_ctx_mode",
    "vads_currency",
    "vads_identifier",
    "vads_identifier_status",
    "vads_operation_type",
    "vads_order_id",
    "vads_site_id",
    "vads_trans_date",
    "vads_trans_id",
    "vads_trans_status",
    "vads_trans_uuid",
    "vads_url_check_src",
];

/// The most distinct meanings remembered per search state, a bound on memory. A search that
/// reaches it says so ([`Outcome::capped`]): its counts are then lower bounds, not a proof of
/// absence. Meanings kept as differences from the genuine message stay far below it.
const MAX_MEANINGS: usize = 4096;

/// What the identity of a message is: its [`IDENTITY`] fields that hold a value.
pub type Identity = BTreeMap<String, String>;

/// The identity of sorted fields.
pub fn identity_of(fields: &[(String, String)]) -> Identity {
    fields
        .iter()
        .filter(|(name, value)| !value.is_empty() && IDENTITY.contains(&name.as_str()))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// A re-labelling that passes the dictionary as an IPN and means something else than the
/// genuine message.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What it means.
    pub identity: Identity,
    /// One re-labelling with that meaning, sorted by name: post it with the genuine signature.
    pub fields: Vec<(String, String)>,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The re-labellings with another meaning, one per meaning.
    pub findings: Vec<Finding>,
    /// The distinct meanings the formats allow (before the structural rules).
    pub meanings: usize,
    /// Whether a state had more than `MAX_MEANINGS` meanings: the counts are then lower bounds.
    pub capped: bool,
}

/// What a name's value counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// An [`IDENTITY`] field: its value.
    Identity,
    /// A field a structural rule reads: whether it holds a value.
    Structure,
    /// Any other: nothing.
    Plain,
}

/// One accepted name, or a product line family (a block of names of one format).
#[derive(Debug)]
struct Item {
    name: String,
    family: bool,
    format: usize,
    role: Role,
    /// Whether an IPN must hold a value here ([`form::REQUIRED`], [`form::IPN_ONLY`]): the
    /// search drops the ways that leave it empty, which can never pass.
    required: bool,
    /// Its bit in [`Meaning::present`], for an identity or structural item.
    bit: u64,
    /// For an identity item, the [`Search::value_id`] of its genuine value, if it has one.
    genuine: Option<u32>,
}

/// The meaningful part of a re-labelling of a suffix: which identity and structural items hold a
/// value (a bit each), and the identity items whose value differs from the genuine one, as
/// (item, the value's [`Search::value_id`]), in item order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Meaning {
    present: u64,
    changed: Vec<(u16, u32)>,
}

/// What one item taking some tokens adds to a meaning.
#[derive(Debug, Clone, Copy)]
struct Head {
    bit: u64,
    changed: Option<(u16, u32)>,
}

impl Head {
    /// The meaning of this head followed by a suffix of the meaning `rest` (later items only).
    fn prepend(self, rest: &Meaning) -> Meaning {
        let mut changed = Vec::with_capacity(rest.changed.len() + 1);
        changed.extend(self.changed);
        changed.extend_from_slice(&rest.changed);
        Meaning { present: self.bit | rest.present, changed }
    }

    /// The meaning of what follows this head in `meaning`.
    fn strip(self, meaning: &Meaning) -> Meaning {
        let skip = usize::from(self.changed.is_some());
        Meaning { present: meaning.present & !self.bit, changed: meaning.changed[skip..].to_vec() }
    }
}

/// How a search state reaches a meaning: the item is skipped, or takes the tokens up to `.0`.
#[derive(Debug, Clone, Copy)]
enum Step {
    Skip,
    Take(usize),
    End,
}

/// A deterministic hasher, so that a capped search reports the same lower bounds every run.
type Fixed = std::hash::BuildHasherDefault<std::hash::DefaultHasher>;

type Suffixes = HashMap<Meaning, Step, Fixed>;

/// The canonical product line indexes in name order: `0`, `1`, `10`, `100`, `101`...
fn family_indexes() -> Vec<String> {
    let mut indexes: Vec<String> = (0..FAMILY_SIZE).map(|i| i.to_string()).collect();
    indexes.sort();
    indexes
}

/// The longest value a format accepts, in bytes.
fn max_bytes(format: FieldFormat) -> usize {
    match format {
        FieldFormat::Digits { max, .. } | FieldFormat::Alnum { max, .. } | FieldFormat::Decimal { max } => {
            usize::from(max)
        }
        FieldFormat::Hex { len } => usize::from(len),
        FieldFormat::Token { max }
        | FieldFormat::Reference { max }
        | FieldFormat::Base64 { max }
        | FieldFormat::PaddedBase64 { max } => usize::from(max),
        FieldFormat::OneOf(values) => values.iter().map(|v| v.len()).max().unwrap_or(0),
        FieldFormat::DateTime => 14,
        FieldFormat::Date => 8,
        FieldFormat::Url | FieldFormat::Link => 2048,
        FieldFormat::Email | FieldFormat::Mailbox => 254,
        FieldFormat::Phone { max } => usize::from(max),
        FieldFormat::Text { max } | FieldFormat::Line { max } | FieldFormat::Json { max } => 4 * usize::from(max),
    }
}

struct Search<'a> {
    joined: String,
    starts: Vec<usize>,
    items: Vec<Item>,
    /// `accept[format][i][e]`: tokens `i..e` joined are a value of the format.
    accept: Vec<Vec<Vec<bool>>>,
    /// `groups[format][i][e]`: the fewest values of the format that tokens `i..e` split into,
    /// and the end of the first; for the product line families.
    groups: HashMap<usize, Vec<Vec<(usize, usize)>>>,
    /// The presence rules, as (first item, bit of the item that requires, bit of the required).
    rules: Vec<(usize, u64, u64)>,
    /// `ids[i][e]`: the number of the value of tokens `i..e`, equal for equal values (spans
    /// longer than any identity value have none).
    ids: Vec<Vec<u32>>,
    /// The meanings of each state, and whether the state only skips its item (it then shares
    /// the next state's meanings, whose steps are that state's).
    memo: HashMap<(usize, usize), (Rc<Suffixes>, bool)>,
    capped: bool,
    extra: &'a ExtraFields,
    strictness: Strictness,
}

impl Search<'_> {
    fn tokens(&self) -> usize {
        self.starts.len()
    }

    /// Tokens `i..e` joined with `+`.
    fn span(&self, i: usize, e: usize) -> &str {
        let end = if e == self.tokens() { self.joined.len() } else { self.starts[e] - 1 };
        &self.joined[self.starts[i]..end]
    }

    /// Whether item `j` can take tokens `i..e`.
    fn takes(&self, j: usize, i: usize, e: usize) -> bool {
        let item = &self.items[j];
        if item.family {
            let (count, _) = self.groups[&item.format][i][e];
            (1..=FAMILY_SIZE).contains(&count)
        } else {
            self.accept[item.format][i][e]
        }
    }

    fn solve(&mut self, i: usize, j: usize) -> Rc<Suffixes> {
        if let Some((known, _)) = self.memo.get(&(i, j)) {
            return Rc::clone(known);
        }
        let m = self.tokens();
        let (result, skips) = if j == self.items.len() {
            let mut end = Suffixes::default();
            if i == m {
                end.insert(Meaning::default(), Step::End);
            }
            (Rc::new(end), false)
        } else {
            let required = self.items[j].required;
            let skip = if required { Rc::new(Suffixes::default()) } else { self.solve(i, j + 1) };
            let takes: Vec<usize> =
                (i + 1..=m).filter(|&e| self.takes(j, i, e) && !(required && self.head(j, i, e).is_none())).collect();
            if takes.is_empty() {
                (skip, !required)
            } else {
                let mut out: Suffixes = skip.keys().map(|k| (k.clone(), Step::Skip)).collect();
                for e in takes {
                    let rest = self.solve(e, j + 1);
                    let head = self.head(j, i, e);
                    for meaning in rest.keys() {
                        if out.len() >= MAX_MEANINGS {
                            self.capped = true;
                            break;
                        }
                        out.entry(head.map_or_else(|| meaning.clone(), |h| h.prepend(meaning)))
                            .or_insert(Step::Take(e));
                    }
                }
                (Rc::new(out), false)
            }
        };
        let (result, skips) = self.prune(j, result, skips);
        self.memo.insert((i, j), (Rc::clone(&result), skips));
        result
    }

    /// Drops the meanings that break a presence rule ([`form::requirements`]) whose first item
    /// is `j`: its items are all in the suffix, so no prefix can mend it. (A rule whose first
    /// item comes later was checked in the states that follow.)
    fn prune(&self, j: usize, meanings: Rc<Suffixes>, skips: bool) -> (Rc<Suffixes>, bool) {
        let rules: Vec<(u64, u64)> = self.rules.iter().filter(|r| r.0 == j).map(|r| (r.1, r.2)).collect();
        if rules.is_empty() {
            return (meanings, skips);
        }
        let holds = |m: &Meaning| rules.iter().all(|(with, needs)| m.present & with == 0 || m.present & needs != 0);
        let kept = meanings
            .iter()
            .filter(|(m, _)| holds(m))
            .map(|(m, step)| (m.clone(), if skips { Step::Skip } else { *step }))
            .collect();
        (Rc::new(kept), false)
    }

    /// What item `j` taking tokens `i..e` adds to a meaning.
    fn head(&self, j: usize, i: usize, e: usize) -> Option<Head> {
        let item = &self.items[j];
        let empty = e == i + 1 && self.span(i, e).is_empty();
        match item.role {
            _ if empty => None,
            Role::Identity => {
                let value = self.ids[i][e];
                let item_number = u16::try_from(j).unwrap_or(u16::MAX);
                let changed = (item.genuine != Some(value)).then_some((item_number, value));
                Some(Head { bit: item.bit, changed })
            }
            Role::Structure => Some(Head { bit: item.bit, changed: None }),
            Role::Plain => None,
        }
    }

    /// One re-labelling of the whole message with `meaning`.
    fn witness(&self, meaning: &Meaning) -> Vec<(String, String)> {
        let indexes = family_indexes();
        let (mut i, mut j, mut rest) = (0, 0, meaning.clone());
        let mut fields = Vec::new();
        while j < self.items.len() {
            let Some((suffixes, skips)) = self.memo.get(&(i, j)) else { break };
            let step = if *skips { Step::Skip } else { suffixes.get(&rest).copied().unwrap_or(Step::End) };
            match step {
                Step::End => break,
                Step::Skip => j += 1,
                Step::Take(e) => {
                    let item = &self.items[j];
                    if item.family {
                        let (mut at, mut n) = (i, 0);
                        while at < e {
                            let next = self.groups[&item.format][at][e].1;
                            fields.push((format!("{}{}", item.name, indexes[n]), self.span(at, next).to_owned()));
                            (at, n) = (next, n + 1);
                        }
                    } else {
                        fields.push((item.name.clone(), self.span(i, e).to_owned()));
                    }
                    if let Some(head) = self.head(j, i, e) {
                        rest = head.strip(&rest);
                    }
                    (i, j) = (e, j + 1);
                }
            }
        }
        fields
    }

    /// Whether the re-labelling passes the dictionary at the IPN endpoint.
    fn passes(&self, fields: &[(String, String)]) -> bool {
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            body.append_pair(name, value);
        }
        FormFields::parse(body.finish().as_bytes())
            .is_ok_and(|f| form::check_with(&f, Endpoint::Ipn, self.extra, self.strictness).is_ok())
    }
}

/// The canonical indexes of a product line family, `0` to `999`.
const FAMILY_SIZE: usize = 1000;

/// Searches every re-labelling of `fields` (a genuine signed message, sorted by name) that the
/// dictionary read with `strictness` and `extra` accepts as an IPN, and returns those whose
/// meaning differs from `fields`' (any, when `fields` is not an IPN: `genuine_ipn` false).
pub fn search(fields: &[(String, String)], genuine_ipn: bool, extra: &ExtraFields, strictness: Strictness) -> Outcome {
    let joined = fields.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("+");
    let mut starts = vec![0];
    starts.extend(joined.match_indices('+').map(|(at, _)| at + 1));
    let structural = form::structural_names();

    let mut names: Vec<(String, bool)> = form::FIELDS.iter().map(|(n, _)| ((*n).to_owned(), false)).collect();
    names.extend(form::product_line_families().map(|p| (p.to_owned(), true)));
    names.extend(extra.names().iter().map(|n| (n.clone(), false)));
    names.sort();
    names.dedup_by(|a, b| a.0 == b.0);

    let mut formats: Vec<FieldFormat> = Vec::new();
    let mut items = Vec::new();
    let mut bits = 0;
    for (name, family) in names {
        let probe = if family { format!("{name}0") } else { name.clone() };
        let Some(format) = extra.format(&probe, strictness) else { continue };
        let format = formats.iter().position(|f| *f == format).unwrap_or_else(|| {
            formats.push(format);
            formats.len() - 1
        });
        let role = if family {
            Role::Plain
        } else if IDENTITY.contains(&name.as_str()) {
            Role::Identity
        } else if structural.contains(&name.as_str()) {
            Role::Structure
        } else {
            Role::Plain
        };
        let required = form::REQUIRED.iter().chain(&form::IPN_ONLY).any(|r| *r == name);
        let bit = match role {
            Role::Plain => 0,
            _ => {
                bits += 1;
                assert!(bits <= 64, "more identity and structural names than bits in a meaning");
                1 << (bits - 1)
            }
        };
        items.push(Item { name, family, format, role, required, bit, genuine: None });
    }

    let m = starts.len();
    let mut search = Search {
        joined,
        starts,
        items,
        accept: Vec::new(),
        groups: HashMap::new(),
        ids: Vec::new(),
        rules: Vec::new(),
        memo: HashMap::new(),
        capped: false,
        extra,
        strictness,
    };
    search.accept = formats
        .iter()
        .map(|format| {
            let bound = max_bytes(*format);
            (0..m)
                .map(|i| {
                    let mut row = vec![false; m + 1];
                    for (e, slot) in row.iter_mut().enumerate().skip(i + 1) {
                        let value = search.span(i, e);
                        if value.len() > bound {
                            break;
                        }
                        *slot = format.accepts(value);
                    }
                    row
                })
                .collect()
        })
        .collect();
    let longest = search.items.iter().filter(|it| it.role == Role::Identity).map(|it| max_bytes(formats[it.format]));
    let longest = longest.max().unwrap_or(0);
    let mut numbers: HashMap<&str, u32> = HashMap::new();
    let mut ids = vec![vec![u32::MAX; m + 1]; m];
    for (i, row) in ids.iter_mut().enumerate() {
        for (e, slot) in row.iter_mut().enumerate().skip(i + 1) {
            let value = search.span(i, e);
            if value.len() > longest {
                break;
            }
            let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
            *slot = *numbers.entry(value).or_insert(next);
        }
    }
    let genuine: Vec<Option<u32>> = search
        .items
        .iter()
        .map(|item| {
            let value = fields.iter().find(|(n, v)| *n == item.name && !v.is_empty());
            value.and_then(|(_, v)| numbers.get(v.as_str()).copied())
        })
        .collect();
    for (item, genuine) in search.items.iter_mut().zip(genuine) {
        item.genuine = genuine;
    }
    search.ids = ids;
    let position = |name: &str| search.items.iter().position(|it| !it.family && it.name == name);
    search.rules = form::requirements()
        .filter_map(|(with, needs)| {
            let (a, b) = (position(with)?, position(needs)?);
            Some((a.min(b), search.items[a].bit, search.items[b].bit))
        })
        .collect();
    let family_formats: Vec<usize> = search.items.iter().filter(|it| it.family).map(|it| it.format).collect();
    for format in family_formats {
        let accept = &search.accept[format];
        let mut table = vec![vec![(usize::MAX, 0); m + 1]; m + 1];
        #[allow(clippy::needless_range_loop)] // `e` indexes the table's rows and columns both
        for e in 0..=m {
            table[e][e] = (0, e);
            for i in (0..e).rev() {
                table[i][e] = (i + 1..=e)
                    .filter(|&k| accept[i][k] && table[k][e].0 != usize::MAX)
                    .map(|k| (table[k][e].0 + 1, k))
                    .min()
                    .unwrap_or((usize::MAX, 0));
            }
        }
        search.groups.insert(format, table);
    }

    let root = search.solve(0, 0);
    let genuine = identity_of(fields);
    let mut outcome = Outcome { meanings: root.len(), capped: search.capped, ..Outcome::default() };
    let mut seen = std::collections::HashSet::new();
    for meaning in root.keys() {
        let candidate = search.witness(meaning);
        let identity = identity_of(&candidate);
        if (genuine_ipn && identity == genuine) || seen.contains(&identity) || !search.passes(&candidate) {
            continue;
        }
        seen.insert(identity.clone());
        outcome.findings.push(Finding { identity, fields: candidate });
    }
    outcome.findings.sort_by(|a, b| a.identity.cmp(&b.identity));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    /// A payment form becomes an IPN when buyer text supplies the IPN-only fields and the
    /// structure: the search finds it, and its witness keeps the signed string.
    #[test]
    fn finds_a_planted_relabelling_and_keeps_the_signed_string() {
        let hash = "0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7";
        let planted = fields(&[
            ("vads_ctx_mode", "TEST"),
            ("vads_cust_address", &format!("x+{hash}")),
            ("vads_site_id", "12345678"),
            ("vads_trans_date", "20261120101500"),
            ("vads_url_return", "PAY"),
            ("vads_version", "V2"),
        ]);
        let extra = ExtraFields::default();
        let outcome = search(&planted, false, &extra, Strictness::Documented);
        assert!(!outcome.findings.is_empty());
        let joined = |f: &[(String, String)]| f.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("+");
        for finding in &outcome.findings {
            assert_eq!(joined(&finding.fields), joined(&planted));
            assert!(finding.fields.windows(2).all(|w| w[0].0 < w[1].0));
            assert_eq!(finding.identity.get("vads_url_check_src").map(String::as_str), Some("PAY"));
        }
    }
}
