//! The rule model: what a Sigma rule means once its YAML has been checked.
//!
//! Transformation modifiers (base64, utf16, windash, expand, …) are already applied
//! here, so every value is one of a few string operations, a number comparison, a
//! network range or a field test. Consumers (the reference evaluator in this crate and
//! the compiled matcher in `rampart-detect`) never see modifiers.

use ipnet::IpNet;
use rampart_event::Level;
use std::path::PathBuf;

/// One detection rule, loaded and checked.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule's `id` (a UUID in SigmaHQ).
    pub id: Option<String>,
    /// The rule's `name`, used by correlation rules to refer to it.
    pub name: Option<String>,
    /// The rule's `title`.
    pub title: String,
    /// `status` as written (`stable`, `test`, `experimental`, `deprecated`, `unsupported`).
    pub status: Option<String>,
    /// `level`; `medium` when the rule names none.
    pub level: Level,
    /// `description`.
    pub description: Option<String>,
    /// All `tags`, as written.
    pub tags: Vec<String>,
    /// The ATT&CK ids found in `tags`.
    pub attack: AttackTags,
    /// `logsource`.
    pub logsource: LogSource,
    /// `detection`: named searches and the condition over them.
    pub detection: Detection,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `author`.
    pub author: Option<String>,
    /// `date` (creation), as written.
    pub date: Option<String>,
    /// `modified`, as written.
    pub modified: Option<String>,
    /// `fields`: event fields worth showing to an analyst.
    pub fields: Vec<String>,
    /// `related`: other rules this one derives from, replaces, …
    pub related: Vec<Related>,
    /// `scope`.
    pub scope: Vec<String>,
    /// `taxonomy` (absent means the default `sigma` taxonomy).
    pub taxonomy: Option<String>,
    /// The file the rule was read from.
    pub path: PathBuf,
    /// 1-based line of the rule's document in that file.
    pub line: usize,
}

impl Rule {
    /// The id alerts carry: the rule's `id`, else its file name.
    pub fn alert_id(&self) -> String {
        match &self.id {
            Some(id) => id.clone(),
            None => self
                .path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

/// ATT&CK ids taken from a rule's `attack.*` tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttackTags {
    /// Technique ids, upper-case: `T1059`, `T1059.001`.
    pub techniques: Vec<String>,
    /// Tactic shortnames as ATT&CK spells them: `execution`, `credential-access`.
    pub tactics: Vec<String>,
    /// Other ATT&CK ids (software `S0002`, groups `G0016`, campaigns `C0010`), upper-case.
    pub other_ids: Vec<String>,
}

/// A rule's `logsource`: which telemetry it applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    /// `product` (`windows`, `linux`, …), lower-case.
    pub product: Option<String>,
    /// `category` (`process_creation`, …), lower-case.
    pub category: Option<String>,
    /// `service` (`security`, `sysmon`, …), lower-case.
    pub service: Option<String>,
    /// `definition`: free text for people; never evaluated.
    pub definition: Option<String>,
}

/// One entry of a rule's `related` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// The related rule's id.
    pub id: String,
    /// The relation (`derived`, `obsolete`, `merged`, `renamed`, `similar`).
    pub kind: String,
}

/// A rule's `detection`: named searches and the condition that combines them.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The search identifiers, in file order.
    pub searches: Vec<(String, Search)>,
    /// The condition; a list of conditions in the rule is one `Or` here.
    pub condition: Condition,
}

impl Detection {
    /// The search of that name.
    pub fn search(&self, name: &str) -> Option<&Search> {
        self.searches
            .iter()
            .find(|(search_name, _)| search_name == name)
            .map(|(_, search)| search)
    }
}

/// One search identifier's definition.
#[derive(Debug, Clone)]
pub enum Search {
    /// A keyword list: matches when any pattern matches any field value of the event.
    Keywords(Vec<ValuePattern>),
    /// Keywords with `|all`: every group must match some field value; a group holds the
    /// alternatives one written keyword expanded into (windash, base64offset, …).
    AllKeywords(Vec<Vec<ValuePattern>>),
    /// A map or a list of maps: matches when any map matches (OR of AND-maps).
    Maps(Vec<FieldMap>),
}

/// One map of a search: all its items must match (AND).
///
/// `Field|all: [a, b]` becomes two items on the same field, one per written value, so
/// that each item is an OR over the alternatives its value expanded into.
#[derive(Debug, Clone)]
pub struct FieldMap(pub Vec<FieldItem>);

/// A test of one event field.
#[derive(Debug, Clone)]
pub struct FieldItem {
    /// The field name, as written in the rule (modifiers removed).
    pub field: String,
    /// What the field's value must satisfy.
    pub pattern: FieldPattern,
}

/// What one field's value must satisfy.
///
/// A field holding a list matches when any element matches, except for `Exists`/`Null`,
/// which look at the field as a whole. String patterns see numbers as decimal text.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FieldPattern {
    /// Any of the patterns matches (the default OR over a value list). Never empty.
    Any(Vec<ValuePattern>),
    /// `null`: the field is absent, null, or an empty list; an empty string is not null.
    Null,
    /// `|exists: true/false`: the field is present (whatever its value) or absent.
    Exists(bool),
    /// `|fieldref`: the field's value compared with another field's value of the same
    /// event (equal by default; `startswith`/`endswith`/`contains` apply to it).
    FieldRef {
        /// The other field.
        field: String,
        /// How the two values are compared (`Equals`, `StartsWith`, …).
        op: StringOp,
        /// `|cased`: compare case-sensitively.
        case_sensitive: bool,
    },
    /// `|cidr`: the value is an IP address inside any of the networks.
    Cidr(Vec<IpNet>),
    /// `|gt` `|gte` `|lt` `|lte`: the value, as a number, passes any of the comparisons.
    Numeric(Vec<(CmpOp, f64)>),
    /// Time modifiers (`|hour`, `|month`, …): that part of the value, read as a
    /// date-time, passes any of the comparisons.
    Time {
        /// Which part of the date-time.
        part: TimePart,
        /// The comparisons (`Eq` for a plain value).
        tests: Vec<(CmpOp, f64)>,
    },
    /// `|neq`: the field is present and the inner pattern does not match it.
    Not(Box<FieldPattern>),
}

/// A comparison against a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `eq` (correlation conditions, plain values of time modifiers)
    Eq,
    /// `neq`
    Neq,
}

impl CmpOp {
    /// Whether `left op right` holds.
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Lt => left < right,
            CmpOp::Lte => left <= right,
            CmpOp::Gt => left > right,
            CmpOp::Gte => left >= right,
            CmpOp::Eq => left == right,
            CmpOp::Neq => left != right,
        }
    }

    /// The modifier name (`gte`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
            CmpOp::Eq => "eq",
            CmpOp::Neq => "neq",
        }
    }
}

/// The part of a date-time that a time modifier extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimePart {
    /// 0–59
    Minute,
    /// 0–23
    Hour,
    /// 1–31
    Day,
    /// ISO week, 1–53
    Week,
    /// 1–12
    Month,
    /// The year.
    Year,
}

/// How a string pattern is compared with a field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringOp {
    /// The whole value equals the text.
    Equals,
    /// The text occurs anywhere in the value.
    Contains,
    /// The value starts with the text.
    StartsWith,
    /// The value ends with the text.
    EndsWith,
    /// The whole value matches a glob (see [`ValuePattern::glob_parts`]).
    Wildcard,
    /// The regular expression matches somewhere in the value (unanchored).
    Regex,
}

/// One string pattern, after all transformation modifiers.
///
/// Plain wildcards are folded into the cheapest operation: `*abc*` is `Contains("abc")`,
/// `abc*` is `StartsWith`, `*abc` is `EndsWith`, a value without wildcards is `Equals`;
/// only patterns with inner wildcards or `?` stay `Wildcard`.
#[derive(Debug, Clone)]
pub struct ValuePattern {
    /// How the text is compared.
    pub op: StringOp,
    /// `Equals`/`Contains`/`StartsWith`/`EndsWith`: the literal text, escapes resolved.
    /// `Wildcard`: a glob where `*` and `?` are wildcards and `\*`, `\?`, `\\` stand for
    /// those characters (every literal backslash is written `\\`).
    /// `Regex`: the expression, led by an inline flag group (`(?i)`, `(?ms)`) when
    /// the rule set sub-modifiers.
    pub text: String,
    /// `Regex` only: the compiled expression (flags included); `None` for other ops.
    pub regex: Option<regex::Regex>,
    /// `|cased` (and regexes without `i`): compare case-sensitively. Otherwise the
    /// comparison is case-insensitive (Unicode lower-case of both sides).
    pub case_sensitive: bool,
}

/// One piece of a [`StringOp::Wildcard`] glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobPart {
    /// Literal text.
    Literal(String),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyChar,
}

/// A detection condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier.
    Search(String),
    /// `not x`
    Not(Box<Condition>),
    /// `x and y and …`
    And(Vec<Condition>),
    /// `x or y or …`
    Or(Vec<Condition>),
    /// `1 of them`, `1 of sel*`: any selected search matches.
    OneOf(Selector),
    /// `all of them`, `all of sel*`: every selected search matches.
    AllOf(Selector),
}

/// The searches a `1 of`/`all of` quantifier ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The pattern as written (`sel*`); `None` for `them`.
    pub pattern: Option<String>,
    /// The search names it selects, in file order. Filled when the condition is
    /// checked against its rule's searches; empty straight out of the parser.
    pub names: Vec<String>,
}

/// A Sigma correlation rule (meta-rule over other rules' matches).
#[derive(Debug, Clone)]
pub struct Correlation {
    /// `id`.
    pub id: Option<String>,
    /// `name`, by which other correlations may refer to this one.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `status`.
    pub status: Option<String>,
    /// `level`, when the correlation adjusts it.
    pub level: Option<Level>,
    /// `description`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// The ATT&CK ids found in `tags`.
    pub attack: AttackTags,
    /// `correlation.type`.
    pub kind: CorrelationType,
    /// `correlation.rules`: ids or names of rules or correlations.
    pub rules: Vec<String>,
    /// `correlation.group-by`.
    pub group_by: Vec<String>,
    /// `correlation.timespan`, in seconds.
    pub timespan_secs: u64,
    /// `correlation.condition`, absent for temporal types that need none.
    pub condition: Option<CorrelationCondition>,
    /// `correlation.aliases`: alias → (rule name → field).
    pub aliases: Aliases,
    /// `correlation.generate`: whether referenced rules also alert on their own.
    pub generate: bool,
    /// The file the correlation was read from.
    pub path: PathBuf,
    /// 1-based line of its document.
    pub line: usize,
}

/// A correlation's field-name aliases: each alias with its (rule name, field) pairs.
pub type Aliases = Vec<(String, Vec<(String, String)>)>;

/// The kind of a correlation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrelationType {
    /// `event_count`
    EventCount,
    /// `value_count`
    ValueCount,
    /// `temporal`
    Temporal,
    /// `temporal_ordered`
    TemporalOrdered,
    /// `value_sum`
    ValueSum,
    /// `value_avg`
    ValueAvg,
    /// `value_percentile`
    ValuePercentile,
}

/// A correlation's `condition`: comparisons that must all hold.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationCondition {
    /// `field` (value_* types): the fields whose values are aggregated.
    pub fields: Vec<String>,
    /// The comparisons, all of which must hold (`gt: 100, lte: 200`).
    pub tests: Vec<(CmpOp, f64)>,
}

/// A Sigma filter (meta-filter): extra conditions added to other rules.
#[derive(Debug, Clone)]
pub struct Filter {
    /// `id`.
    pub id: Option<String>,
    /// `title`.
    pub title: String,
    /// `description`.
    pub description: Option<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `expires` (a custom attribute, `YYYY-MM-DD`): from that day on the filter no
    /// longer applies (see [`Filter::active_on`]); loading reports it as expired.
    pub expires: Option<chrono::NaiveDate>,
    /// `logsource`: the filter applies only to rules of this log source.
    pub logsource: LogSource,
    /// `filter.rules`: ids (or names) of the rules it applies to.
    pub rules: Vec<String>,
    /// `filter`'s searches and condition. A filtered rule matches when its own
    /// condition holds and this condition holds too (write `not selection` to exclude).
    pub detection: Detection,
    /// The file the filter was read from.
    pub path: PathBuf,
    /// 1-based line of its document.
    pub line: usize,
}

/// Everything loaded from a set of rule files.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Detection rules.
    pub rules: Vec<Rule>,
    /// Correlation rules.
    pub correlations: Vec<Correlation>,
    /// Filters.
    pub filters: Vec<Filter>,
}
