//! Pulse: `{server}/api/-/pulse/...` (a literal `-` where REST has its version) [code], JSON
//! in snake_case, on the REST session (`X-Tableau-Auth`).
//!
//! | request | answer | scope for a JWT session |
//! |---|---|---|
//! | `GET definitions?page_size=&page_token=&view=` | `{"definitions": [...], "next_page_token", "offset", "total_available"}` | `tableau:insight_definitions_metrics:read` |
//! | `POST definitions:batchGet` `{"definition_ids": [...]}` (`?view=`) | `{"definitions": [...]}` | same |
//! | `GET definitions/{id}/metrics` | `{"metrics": [...]}` | same |
//! | `POST metrics:batchGet` `{"metric_ids": [...]}` | `{"metrics": [...]}` | `tableau:insight_metrics:read` |
//!
//! Grades: paths, bodies, `definitions`/`metrics` and the objects' fields [code: tableau-mcp's
//! client and zod schemas]; scopes [doc via tableau-mcp: its method comments and docs site];
//! `page_size` default 10 [doc via tableau-mcp docs]; `page_size` at most 1000, `offset` and
//! `total_available` [guess]; `next_page_token` is `""` on the last page (proto3 JSON that
//! prints every field) [guess]. `view`: `DEFINITION_VIEW_BASIC` (default: `metrics` empty),
//! `DEFINITION_VIEW_DEFAULT` (the default metric), `DEFINITION_VIEW_FULL` (all) [doc via
//! tableau-mcp]. Unknown ids in a batchGet are left out of the answer [guess].
//!
//! Errors are gRPC-gateway JSON `{"code": <gRPC code>, "message", "details": []}` with the
//! mapped HTTP status: 400 / 3 INVALID_ARGUMENT (bad page_size, page_token, view or body),
//! 404 / 5 NOT_FOUND (unknown definition, unknown path), 405 / 12 (wrong method) [guess: the
//! service is gRPC behind a gateway (tableau-mcp cites `ntbue-service-chassis`), and
//! tableau-mcp reads only the status and the `tableau_error_code` / `validation_code`
//! headers]. A missing or dead token (or a JWT without the scope) answers 401 with the REST
//! JSON error, 401000 / 401002 [guess].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Value};

use super::apis::{self, Answer, Call};
use super::random::new_luid;
use super::state::State;

/// Definitions made at start.
pub(crate) const DEFAULT_DEFINITIONS: usize = 36;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 1000;

/// Scopes for the definition methods (any one).
pub(crate) const DEFINITION_SCOPES: &[&str] = &["tableau:insight_definitions_metrics:read"];
/// Scopes for `metrics:batchGet` (any one).
pub(crate) const METRIC_SCOPES: &[&str] = &["tableau:insight_metrics:read"];

/// A metric definition and its metrics (ids only; the rest is made when answering).
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    pub id: String,
    pub name: String,
    pub metric_ids: Vec<String>,
}

/// Pulse's content.
#[derive(Clone, Debug)]
pub(crate) struct PulseConfig {
    pub definitions: Vec<Definition>,
}

impl PulseConfig {
    pub fn new(count: usize) -> Self {
        let mut config = PulseConfig {
            definitions: Vec::new(),
        };
        config.set_count(count);
        config
    }

    /// Keeps the first `count` definitions, adding new ones as needed (1 to 3 metrics each).
    pub fn set_count(&mut self, count: usize) {
        const MEASURES: [&str; 3] = ["Sales", "Profit", "Quantity"];
        self.definitions.truncate(count);
        for i in self.definitions.len()..count {
            self.definitions.push(Definition {
                id: new_luid(),
                name: format!("{} #{:02}", MEASURES[i % 3], i + 1),
                metric_ids: (0..=i % 3).map(|_| new_luid()).collect(),
            });
        }
    }
}

struct PulseError {
    status: u16,
    grpc: u8,
    message: String,
}

impl PulseError {
    fn invalid(message: impl Into<String>) -> Self {
        PulseError {
            status: 400,
            grpc: 3,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        PulseError {
            status: 404,
            grpc: 5,
            message: message.into(),
        }
    }

    fn answer(&self, st: &mut State) -> Answer {
        apis::count_rejection(st, &format!("pulse/{}", self.grpc));
        Answer::json(
            self.status,
            &json!({"code": self.grpc, "message": self.message, "details": []}),
        )
    }
}

/// Serves `/api/-/pulse/...`.
pub(crate) fn answer(st: &mut State, call: &Call<'_>) -> Answer {
    let rest = call.path.strip_prefix("/api/-/pulse/").unwrap_or_default();
    let parts: Vec<&str> = rest.split('/').collect();
    let (method, scopes): (Method, &[&str]) = match parts[..] {
        ["definitions"] => (Method::GET, DEFINITION_SCOPES),
        ["definitions:batchGet"] => (Method::POST, DEFINITION_SCOPES),
        ["definitions", id, "metrics"] if !id.is_empty() => (Method::GET, DEFINITION_SCOPES),
        ["metrics:batchGet"] => (Method::POST, METRIC_SCOPES),
        _ => return PulseError::not_found("Not Found").answer(st),
    };
    if *call.method != method {
        return PulseError {
            status: 405,
            grpc: 12,
            message: "Method Not Allowed".into(),
        }
        .answer(st);
    }
    if let Err(failure) = apis::session(st, call, scopes) {
        return apis::rest_auth_error(st, failure);
    }
    let result = match parts[..] {
        ["definitions"] => list_definitions(st, call),
        ["definitions:batchGet"] => batch_get_definitions(st, call),
        ["definitions", id, "metrics"] => list_metrics(st, id),
        _ => batch_get_metrics(st, call),
    };
    match result {
        Ok(body) => Answer::json(200, &body),
        Err(e) => e.answer(st),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Basic,
    Default,
    Full,
}

fn view(call: &Call<'_>) -> Result<View, PulseError> {
    match apis::query_param(call.query, "view").as_deref() {
        None | Some("DEFINITION_VIEW_BASIC") | Some("DEFINITION_VIEW_UNSPECIFIED") => {
            Ok(View::Basic)
        }
        Some("DEFINITION_VIEW_DEFAULT") => Ok(View::Default),
        Some("DEFINITION_VIEW_FULL") => Ok(View::Full),
        Some(other) => Err(PulseError::invalid(format!(
            "invalid value for enum field view: \"{other}\""
        ))),
    }
}

fn list_definitions(st: &State, call: &Call<'_>) -> Result<Value, PulseError> {
    let view = view(call)?;
    let page_size = match apis::query_param(call.query, "page_size") {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => match s.parse::<usize>() {
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(n) if n <= MAX_PAGE_SIZE => n,
            _ => {
                return Err(PulseError::invalid(format!(
                    "page_size must be an integer between 0 and {MAX_PAGE_SIZE}, not \"{s}\""
                )))
            }
        },
    };
    let all = &st.apis.pulse.definitions;
    let offset = match apis::query_param(call.query, "page_token") {
        None => 0,
        Some(t) if t.is_empty() => 0,
        Some(t) => read_token(&t).ok_or_else(|| PulseError::invalid("invalid page_token"))?,
    };
    let start = offset.min(all.len());
    let end = start.saturating_add(page_size).min(all.len());
    let ds = st.apis.vds.datasource_luid.clone();
    let next = if end < all.len() {
        URL_SAFE_NO_PAD.encode(format!("definitions:{end}"))
    } else {
        String::new()
    };
    Ok(json!({
        "definitions": all[start..end].iter().map(|d| definition_json(d, &ds, view)).collect::<Vec<_>>(),
        "next_page_token": next,
        "offset": start,
        "total_available": all.len(),
    }))
}

fn read_token(token: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    text.strip_prefix("definitions:")?.parse().ok()
}

/// The ids in the JSON body's list `key` (non-empty, strings).
fn ids(call: &Call<'_>, key: &str) -> Result<Vec<String>, PulseError> {
    let body: Value = serde_json::from_slice(call.body)
        .map_err(|e| PulseError::invalid(format!("invalid JSON body: {e}")))?;
    let list = body
        .get(key)
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| PulseError::invalid(format!("{key} must be a non-empty list")))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| PulseError::invalid(format!("{key} must hold strings")))
        })
        .collect()
}

fn batch_get_definitions(st: &State, call: &Call<'_>) -> Result<Value, PulseError> {
    let view = view(call)?;
    let wanted = ids(call, "definition_ids")?;
    let ds = &st.apis.vds.datasource_luid;
    let defs: Vec<Value> = wanted
        .iter()
        .filter_map(|id| st.apis.pulse.definitions.iter().find(|d| d.id == *id))
        .map(|d| definition_json(d, ds, view))
        .collect();
    Ok(json!({ "definitions": defs }))
}

fn list_metrics(st: &State, id: &str) -> Result<Value, PulseError> {
    let def = st
        .apis
        .pulse
        .definitions
        .iter()
        .find(|d| d.id == id)
        .ok_or_else(|| PulseError::not_found(format!("definition {id} not found")))?;
    let ds = &st.apis.vds.datasource_luid;
    Ok(
        json!({"metrics": def.metric_ids.iter().enumerate().map(|(i, m)| metric_json(def, m, i == 0, ds)).collect::<Vec<_>>()}),
    )
}

fn batch_get_metrics(st: &State, call: &Call<'_>) -> Result<Value, PulseError> {
    let wanted = ids(call, "metric_ids")?;
    let ds = &st.apis.vds.datasource_luid;
    let mut metrics = Vec::new();
    for id in &wanted {
        for def in &st.apis.pulse.definitions {
            if let Some(i) = def.metric_ids.iter().position(|m| m == id) {
                metrics.push(metric_json(def, id, i == 0, ds));
            }
        }
    }
    Ok(json!({ "metrics": metrics }))
}

fn measure(def: &Definition) -> &'static str {
    ["Sales", "Profit", "Quantity"]
        .into_iter()
        .find(|m| def.name.starts_with(m))
        .unwrap_or("Sales")
}

fn definition_json(def: &Definition, datasource: &str, view: View) -> Value {
    let metrics: Vec<Value> = match view {
        View::Basic => Vec::new(),
        View::Default => vec![metric_json(def, &def.metric_ids[0], true, datasource)],
        View::Full => def
            .metric_ids
            .iter()
            .enumerate()
            .map(|(i, m)| metric_json(def, m, i == 0, datasource))
            .collect(),
    };
    json!({
        "metadata": {
            "name": def.name,
            "description": "",
            "id": def.id,
            "schema_version": "1.0.0",
            "metric_version": 1,
            "definition_version": 1,
        },
        "specification": {
            "datasource": {"id": datasource},
            "basic_specification": {
                "measure": {"field": measure(def), "aggregation": "AGGREGATION_SUM"},
                "time_dimension": {"field": "Order Date"},
                "filters": [],
            },
            "is_running_total": false,
        },
        "extension_options": {
            "allowed_dimensions": ["Region", "Category"],
            "allowed_granularities": ["GRANULARITY_BY_DAY", "GRANULARITY_BY_WEEK", "GRANULARITY_BY_MONTH", "GRANULARITY_BY_QUARTER", "GRANULARITY_BY_YEAR"],
            "offset_from_today": 0,
        },
        "metrics": metrics,
        "total_metrics": def.metric_ids.len(),
        "representation_options": {
            "type": "NUMBER_FORMAT_TYPE_NUMBER",
            "number_units": {"singular_noun": "", "plural_noun": ""},
            "sentiment_type": "SENTIMENT_TYPE_UP_IS_GOOD",
            "row_level_id_field": {"identifier_col": "Order ID"},
            "row_level_entity_names": {"entity_name_singular": "Order", "entity_name_plural": "Orders"},
            "row_level_name_field": {"name_col": ""},
            "currency_code": "CURRENCY_CODE_USD",
        },
        "insights_options": {"settings": []},
        "comparisons": {"comparisons": [{"compare_config": {"comparison": "TIME_COMPARISON_PREVIOUS_PERIOD"}, "index": 0}]},
        "datasource_goals": [],
    })
}

fn metric_json(def: &Definition, id: &str, is_default: bool, datasource: &str) -> Value {
    json!({
        "id": id,
        "specification": {
            "filters": [],
            "measurement_period": {"granularity": "GRANULARITY_BY_MONTH", "range": "RANGE_CURRENT_PARTIAL"},
            "comparison": {"comparison": "TIME_COMPARISON_PREVIOUS_PERIOD"},
        },
        "definition_id": def.id,
        "is_default": is_default,
        "schema_version": "1.0.0",
        "metric_version": 1,
        "is_followed": false,
        "datasource_luid": datasource,
    })
}
