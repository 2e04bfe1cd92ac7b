//! VizQL Data Service: `/api/v1/vizql-data-service/{read-metadata, query-datasource,
//! get-datasource-model}` (POST, JSON, `X-Tableau-Auth`, scope `tableau:viz_data_service:read`)
//! and `GET .../simple-request` (health, no auth) [doc/OpenAPI, tableau-mcp's client].
//!
//! One published data source, the REST list's "Superstore Datasource" on the default site
//! (`mysite`), LUID [`DEFAULT_DATASOURCE_LUID`](crate::DEFAULT_DATASOURCE_LUID): 50 rows made by a formula ([`superstore_rows`]), fields of the types STRING, DATE, REAL,
//! INTEGER and BOOLEAN.
//!
//! # Requests
//!
//! All three POSTs take `{"datasource": {"datasourceLuid": ...}, "options": {...}}`;
//! `query-datasource` also `"query": {"fields": [...], "filters": [...]}` [OpenAPI]. Fields:
//! `{"fieldCaption", "function"?, "fieldAlias"?, "sortDirection"?, "sortPriority"?,
//! "maxDecimalPlaces"?}`. The fake computes `SUM`, `AVG`, `COUNT`, `COUNTD`, `MIN`, `MAX`,
//! grouping by the fields without a function (a query of dimensions only answers their
//! distinct combinations); filters: `SET` (`values`, `exclude`). Other functions, filter
//! types, `calculation` fields and `options.disaggregate` are answered 400803 saying the
//! fake does not do them. `options.returnFormat`: `OBJECTS` (default) or `ARRAYS`.
//!
//! # Answers
//!
//! * `query-datasource`: `{"data": [{"Region": "East", "SUM(Sales)": 123.5}, ...]}`: a field
//!   with a function is keyed `FUNCTION(Caption)` unless it has a `fieldAlias` [community
//!   examples; guess]; rows sorted by `sortPriority`/`sortDirection` fields, then by the
//!   grouping fields ascending.
//! * `read-metadata`: `{"data": [{"fieldName", "fieldCaption", "dataType",
//!   "defaultAggregation", "logicalTableId"}]}` [OpenAPI].
//! * `get-datasource-model`: `{"logicalTables": [{"logicalTableId", "caption"}],
//!   "logicalTableRelationships": []}` [community code].
//! * `simple-request`: the JSON string `"OK"` [guess; the OpenAPI says a string].
//!
//! # Errors: JSON `{"errorCode", "message", "datetime", "debug": {}, "tab-error-code"}`
//!
//! Shape [OpenAPI TableauError]; `tab-error-code` values here are placeholders [guess].
//!
//! | HTTP | errorCode | when | grade |
//! |---|---|---|---|
//! | 400 | 400000 | body is not JSON | [doc] |
//! | 400 | 400802 | body not shaped as the OpenAPI says (missing `datasource`, `fields` not a list, unknown key or function...) | [doc] |
//! | 400 | 400803 | unknown field caption ("Unknown Field: X.", as seen from Tableau in tableau-mcp #24), function on a field of the wrong type, duplicate output key, feature the fake lacks | [doc/code] |
//! | 400 | 400804 | more rows than the row limit ([`Setup::set_vds_row_limit`](crate::Setup::set_vds_row_limit)) | [doc] |
//! | 401 | 401002 | no, dead or out-of-scope token | [doc] |
//! | 403 | 403800 | API Access denied on the data source ([`Setup::set_vds_api_access`](crate::Setup::set_vds_api_access)) | [doc] |
//! | 404 | 404000 | no such data source on the session's site | status [doc-ish], code [guess] |
//! | 404 | 404950 | unknown endpoint | [doc] |
//! | 405 | 405000 | wrong method | [guess] |

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use hyper::Method;
use serde_json::{json, Map, Value};

use super::apis::{self, Answer, Call};
use super::clock;
use super::model::{DEFAULT_DATASOURCE_LUID, DEFAULT_DATASOURCE_NAME};
use super::state::State;

/// The scopes that open VDS for a JWT session (any one) [doc].
pub(crate) const SCOPES: &[&str] = &["tableau:viz_data_service:read"];

/// The site (content URL) that holds the data source.
const DATASOURCE_SITE: &str = "mysite";
/// The REST list's published data source (`model.rs`), so that REST, the Metadata API and
/// VizQL Data Service agree on it.
const DATASOURCE_NAME: &str = DEFAULT_DATASOURCE_NAME;
const LOGICAL_TABLE_ID: &str = "Orders_8C2E6A3B1F4D4E7A9B0C1D2E3F4A5B6C";
/// Rows in the data source.
pub(crate) const ROWS: usize = 50;

/// VDS settings.
#[derive(Clone, Debug)]
pub(crate) struct VdsConfig {
    pub datasource_luid: String,
    /// Data sources (LUIDs) whose API Access capability is denied to every user.
    pub api_access_denied: HashSet<String>,
    /// More result rows than this → 400804; `None`: no limit.
    pub row_limit: Option<usize>,
}

impl VdsConfig {
    pub fn new() -> Self {
        VdsConfig {
            datasource_luid: DEFAULT_DATASOURCE_LUID.to_string(),
            api_access_denied: HashSet::new(),
            row_limit: None,
        }
    }
}

/// A field of the data source.
struct FieldDef {
    caption: &'static str,
    data_type: &'static str,
    default_aggregation: &'static str,
}

const FIELDS: &[FieldDef] = &[
    FieldDef {
        caption: "Order ID",
        data_type: "STRING",
        default_aggregation: "COUNT",
    },
    FieldDef {
        caption: "Order Date",
        data_type: "DATE",
        default_aggregation: "YEAR",
    },
    FieldDef {
        caption: "Region",
        data_type: "STRING",
        default_aggregation: "COUNT",
    },
    FieldDef {
        caption: "Category",
        data_type: "STRING",
        default_aggregation: "COUNT",
    },
    FieldDef {
        caption: "Sales",
        data_type: "REAL",
        default_aggregation: "SUM",
    },
    FieldDef {
        caption: "Quantity",
        data_type: "INTEGER",
        default_aggregation: "SUM",
    },
    FieldDef {
        caption: "Profit",
        data_type: "REAL",
        default_aggregation: "SUM",
    },
    FieldDef {
        caption: "Returned",
        data_type: "BOOLEAN",
        default_aggregation: "COUNT",
    },
];

/// One row of the data source.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SuperstoreRow {
    pub order_id: String,
    pub order_date: String,
    pub region: &'static str,
    pub category: &'static str,
    /// Quarter units, so that sums are exact in binary floating point.
    pub sales: f64,
    pub quantity: i64,
    pub profit: f64,
    pub returned: bool,
}

impl SuperstoreRow {
    /// The value of the field with this caption.
    pub fn value(&self, caption: &str) -> Option<Value> {
        Some(match caption {
            "Order ID" => json!(self.order_id),
            "Order Date" => json!(self.order_date),
            "Region" => json!(self.region),
            "Category" => json!(self.category),
            "Sales" => json!(self.sales),
            "Quantity" => json!(self.quantity),
            "Profit" => json!(self.profit),
            "Returned" => json!(self.returned),
            _ => return None,
        })
    }
}

/// The data source's rows, made by formula (the same every time).
pub(crate) fn superstore_rows() -> Vec<SuperstoreRow> {
    const REGIONS: [&str; 4] = ["Central", "East", "South", "West"];
    const CATEGORIES: [&str; 3] = ["Furniture", "Office Supplies", "Technology"];
    (0..ROWS)
        .map(|i| {
            let n = i as i64;
            SuperstoreRow {
                order_id: format!("US-2024-{:06}", 100_000 + n * 37),
                order_date: format!("2024-{:02}-{:02}", 1 + i % 12, 1 + (i * 7) % 28),
                region: REGIONS[i % 4],
                category: CATEGORIES[(i * 5 / 3) % 3],
                sales: ((n * 7919) % 900 + 10) as f64 + 0.25 * (n % 4) as f64,
                quantity: 1 + (n * 5) % 9,
                profit: ((n * 131) % 200 - 60) as f64 + 0.5 * (n % 2) as f64,
                returned: i % 7 == 3,
            }
        })
        .collect()
}

/// A published data source as the Metadata API lists it.
pub(crate) struct PublishedDs {
    pub luid: String,
    pub name: String,
    pub description: String,
    /// (caption, data type).
    pub fields: Vec<(String, String)>,
}

/// The published data sources on the site with this content URL.
pub(crate) fn published_datasources(st: &State, site_content_url: &str) -> Vec<PublishedDs> {
    if site_content_url != DATASOURCE_SITE {
        return Vec::new();
    }
    vec![PublishedDs {
        luid: st.apis.vds.datasource_luid.clone(),
        name: DATASOURCE_NAME.to_string(),
        description: "Orders of a made-up office supplies store (the fake's VDS data source)."
            .to_string(),
        fields: FIELDS
            .iter()
            .map(|f| (f.caption.to_string(), f.data_type.to_string()))
            .collect(),
    }]
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// A VDS error answer.
struct VdsError {
    status: u16,
    code: &'static str,
    message: String,
}

impl VdsError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        VdsError {
            status,
            code,
            message: message.into(),
        }
    }

    fn shape(message: impl Into<String>) -> Self {
        Self::new(400, "400802", message)
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "400803", message)
    }

    fn answer(&self, st: &mut State) -> Answer {
        apis::count_rejection(st, self.code);
        Answer::json(
            self.status,
            &json!({
                "errorCode": self.code,
                "message": self.message,
                "datetime": rfc3339_now(),
                "debug": {},
                // Placeholder: Tableau's values are internal hex codes ([guess]).
                "tab-error-code": format!("0x{:08X}", self.code.parse::<u32>().unwrap_or(0)),
            }),
        )
    }
}

/// Serves `/api/v1/vizql-data-service/...`.
pub(crate) fn answer(st: &mut State, call: &Call<'_>) -> Answer {
    let endpoint = call
        .path
        .strip_prefix("/api/v1/vizql-data-service/")
        .unwrap_or_default();
    let result = match endpoint {
        "simple-request" => {
            if *call.method == Method::GET {
                return Answer::json(200, &json!("OK"));
            }
            Err(method_not_allowed(call.method))
        }
        "read-metadata" | "query-datasource" | "get-datasource-model" => {
            if *call.method != Method::POST {
                Err(method_not_allowed(call.method))
            } else {
                post(st, call, endpoint)
            }
        }
        _ => Err(VdsError::new(
            404,
            "404950",
            format!("The endpoint '{endpoint}' does not exist."),
        )),
    };
    match result {
        Ok(body) => Answer::json(200, &body),
        Err(e) => e.answer(st),
    }
}

fn method_not_allowed(method: &Method) -> VdsError {
    VdsError::new(
        405,
        "405000",
        format!("Request method '{method}' is not supported."),
    )
}

fn post(st: &mut State, call: &Call<'_>, endpoint: &str) -> Result<Value, VdsError> {
    let session = apis::session(st, call, SCOPES).map_err(|_| {
        VdsError::new(
            401,
            "401002",
            "Invalid authentication credentials were provided.",
        )
    })?;
    let body: Value = serde_json::from_slice(call.body)
        .map_err(|e| VdsError::new(400, "400000", format!("The request body is not JSON: {e}")))?;
    let body = body
        .as_object()
        .ok_or_else(|| VdsError::shape("The request body must be a JSON object."))?;
    let allowed: &[&str] = match endpoint {
        "query-datasource" => &["datasource", "query", "options"],
        _ => &["datasource", "options"],
    };
    if let Some(bad) = body.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(VdsError::shape(format!("Unknown property '{bad}'.")));
    }
    let luid = body
        .get("datasource")
        .and_then(|d| d.get("datasourceLuid"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| VdsError::shape("'datasource.datasourceLuid' is required."))?;
    let options = match body.get("options") {
        None => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err(VdsError::shape("'options' must be an object.")),
    };

    let site = st
        .site_by_luid(&session.site_luid)
        .map(|s| s.content_url.clone())
        .unwrap_or_default();
    let config = &st.apis.vds;
    if luid != config.datasource_luid || site != DATASOURCE_SITE {
        return Err(VdsError::new(
            404,
            "404000",
            format!("The data source '{luid}' could not be found."),
        ));
    }
    if config.api_access_denied.contains(luid) {
        return Err(VdsError::new(
            403,
            "403800",
            "The user doesn't have API Access granted on the given data source.",
        ));
    }
    match endpoint {
        "read-metadata" => Ok(json!({
            "data": FIELDS
                .iter()
                .map(|f| json!({
                    "fieldName": f.caption,
                    "fieldCaption": f.caption,
                    "dataType": f.data_type,
                    "defaultAggregation": f.default_aggregation,
                    "logicalTableId": LOGICAL_TABLE_ID,
                }))
                .collect::<Vec<_>>()
        })),
        "get-datasource-model" => Ok(json!({
            "logicalTables": [{"logicalTableId": LOGICAL_TABLE_ID, "caption": "Orders"}],
            "logicalTableRelationships": [],
        })),
        _ => {
            let query = body
                .get("query")
                .and_then(Value::as_object)
                .ok_or_else(|| VdsError::shape("'query' is required and must be an object."))?;
            let rows = run_query(query, &options)?;
            if let Some(limit) = st.apis.vds.row_limit {
                if rows.len() > limit {
                    return Err(VdsError::new(
                        400,
                        "400804",
                        format!("The response value exceeds the limit ({} rows, limit {limit}). You must apply a filter in your request.", rows.len()),
                    ));
                }
            }
            let arrays = match options.get("returnFormat") {
                None => false,
                Some(v) if v == "OBJECTS" => false,
                Some(v) if v == "ARRAYS" => true,
                Some(v) => return Err(VdsError::shape(format!("Unknown returnFormat {v}."))),
            };
            let data: Vec<Value> = rows
                .into_iter()
                .map(|r| {
                    if arrays {
                        Value::Array(r.into_iter().map(|(_, v)| v).collect())
                    } else {
                        Value::Object(r.into_iter().collect())
                    }
                })
                .collect();
            Ok(json!({ "data": data }))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The query engine

const FUNCTIONS: &[&str] = &[
    "SUM",
    "AVG",
    "MEDIAN",
    "COUNT",
    "COUNTD",
    "MIN",
    "MAX",
    "STDEV",
    "VAR",
    "COLLECT",
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "TRUNC_YEAR",
    "TRUNC_QUARTER",
    "TRUNC_MONTH",
    "TRUNC_WEEK",
    "TRUNC_DAY",
];
const COMPUTED: &[&str] = &["SUM", "AVG", "COUNT", "COUNTD", "MIN", "MAX"];

/// A requested field, read.
struct Selected {
    caption: String,
    data_type: &'static str,
    function: Option<String>,
    key: String,
    sort: Option<(bool, i64)>,
}

/// One result row: (key, value) in the order of the requested fields.
type OutRow = Vec<(String, Value)>;

fn run_query(
    query: &Map<String, Value>,
    options: &Map<String, Value>,
) -> Result<Vec<OutRow>, VdsError> {
    if let Some(bad) = query.keys().find(|k| *k != "fields" && *k != "filters") {
        return Err(VdsError::shape(format!("Unknown property 'query.{bad}'.")));
    }
    if options.get("disaggregate").and_then(Value::as_bool) == Some(true) {
        return Err(VdsError::validation(
            "options.disaggregate is not supported by the fake VizQL Data Service.",
        ));
    }
    let fields = query
        .get("fields")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| VdsError::shape("'query.fields' must be a non-empty list."))?;
    let mut selected = Vec::new();
    let mut keys = BTreeSet::new();
    for (i, f) in fields.iter().enumerate() {
        let s = read_field(f, i)?;
        if !keys.insert(s.key.clone()) {
            return Err(VdsError::validation(format!(
                "The field '{}' appears more than once in the query.",
                s.key
            )));
        }
        selected.push(s);
    }
    let mut rows = superstore_rows();
    if let Some(filters) = query.get("filters") {
        let filters = filters
            .as_array()
            .ok_or_else(|| VdsError::shape("'query.filters' must be a list."))?;
        for filter in filters {
            let keep = read_set_filter(filter)?;
            rows.retain(|r| keep(r));
        }
    }

    let dims: Vec<&Selected> = selected.iter().filter(|s| s.function.is_none()).collect();
    let mut groups: BTreeMap<Vec<SortKey>, Vec<&SuperstoreRow>> = BTreeMap::new();
    for row in &rows {
        let key = dims
            .iter()
            .map(|d| SortKey(row.value(&d.caption).unwrap_or(Value::Null)))
            .collect();
        groups.entry(key).or_default().push(row);
    }
    if dims.is_empty() && groups.is_empty() {
        groups.insert(Vec::new(), Vec::new());
    }
    let mut out: Vec<OutRow> = groups
        .values()
        .map(|members| {
            selected
                .iter()
                .map(|s| {
                    let values: Vec<Value> = members
                        .iter()
                        .map(|r| r.value(&s.caption).unwrap_or(Value::Null))
                        .collect();
                    let v = match &s.function {
                        None => values.first().cloned().unwrap_or(Value::Null),
                        Some(f) => aggregate(f, s.data_type, &values),
                    };
                    (s.key.clone(), v)
                })
                .collect()
        })
        .collect();

    let mut sorts: Vec<(usize, bool, i64)> = selected
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.sort.map(|(asc, prio)| (i, asc, prio)))
        .collect();
    sorts.sort_by_key(|(i, _, prio)| (*prio, *i));
    if !sorts.is_empty() {
        out.sort_by(|a, b| {
            for (i, asc, _) in &sorts {
                let ord = SortKey(a[*i].1.clone()).cmp(&SortKey(b[*i].1.clone()));
                let ord = if *asc { ord } else { ord.reverse() };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    Ok(out)
}

fn read_field(f: &Value, index: usize) -> Result<Selected, VdsError> {
    let obj = f
        .as_object()
        .ok_or_else(|| VdsError::shape(format!("query.fields[{index}] must be an object.")))?;
    const KEYS: &[&str] = &[
        "fieldCaption",
        "function",
        "fieldAlias",
        "sortDirection",
        "sortPriority",
        "maxDecimalPlaces",
        "calculation",
    ];
    if let Some(bad) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(VdsError::shape(format!(
            "Unknown property 'query.fields[{index}].{bad}'."
        )));
    }
    if obj.contains_key("calculation") {
        return Err(VdsError::validation(
            "Calculated fields are not supported by the fake VizQL Data Service.",
        ));
    }
    let caption = obj
        .get("fieldCaption")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            VdsError::shape(format!("query.fields[{index}].fieldCaption is required."))
        })?;
    let def = FIELDS
        .iter()
        .find(|d| d.caption == caption)
        .ok_or_else(|| VdsError::validation(format!("Unknown Field: {caption}.")))?;
    let function = match obj.get("function") {
        None => None,
        Some(Value::String(f)) if FUNCTIONS.contains(&f.as_str()) => {
            if !COMPUTED.contains(&f.as_str()) {
                return Err(VdsError::validation(format!(
                    "The function {f} is not supported by the fake VizQL Data Service."
                )));
            }
            let numeric = matches!(def.data_type, "REAL" | "INTEGER");
            if matches!(f.as_str(), "SUM" | "AVG") && !numeric {
                return Err(VdsError::validation(format!(
                    "The function {f} cannot be applied to the {} field '{caption}'.",
                    def.data_type
                )));
            }
            Some(f.clone())
        }
        Some(other) => {
            return Err(VdsError::shape(format!(
                "query.fields[{index}].function: {other} is not a function."
            )))
        }
    };
    let alias = match obj.get("fieldAlias") {
        None => None,
        Some(Value::String(a)) => Some(a.clone()),
        Some(_) => {
            return Err(VdsError::shape(format!(
                "query.fields[{index}].fieldAlias must be a string."
            )))
        }
    };
    let key = alias.unwrap_or_else(|| match &function {
        Some(f) => format!("{f}({caption})"),
        None => caption.to_string(),
    });
    let direction = match obj.get("sortDirection") {
        None => None,
        Some(v) if v == "ASC" => Some(true),
        Some(v) if v == "DESC" => Some(false),
        Some(v) => return Err(VdsError::shape(format!("Unknown sortDirection {v}."))),
    };
    let priority = match obj.get("sortPriority") {
        None => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            VdsError::shape(format!(
                "query.fields[{index}].sortPriority must be an integer."
            ))
        })?),
    };
    let sort = match (direction, priority) {
        (None, None) => None,
        (d, p) => Some((d.unwrap_or(true), p.unwrap_or(i64::MAX))),
    };
    Ok(Selected {
        caption: caption.to_string(),
        data_type: def.data_type,
        function,
        key,
        sort,
    })
}

type RowFilter = Box<dyn Fn(&SuperstoreRow) -> bool>;

/// A `SET` filter: `{"field": {"fieldCaption"}, "filterType": "SET", "values": [...],
/// "exclude"?: bool, "context"?: bool}`.
fn read_set_filter(filter: &Value) -> Result<RowFilter, VdsError> {
    let obj = filter
        .as_object()
        .ok_or_else(|| VdsError::shape("Each filter must be an object."))?;
    let kind = obj
        .get("filterType")
        .and_then(Value::as_str)
        .ok_or_else(|| VdsError::shape("filterType is required."))?;
    if kind != "SET" {
        return Err(VdsError::validation(format!(
            "The filter type {kind} is not supported by the fake VizQL Data Service (SET only)."
        )));
    }
    if let Some(bad) = obj
        .keys()
        .find(|k| !["field", "filterType", "values", "exclude", "context"].contains(&k.as_str()))
    {
        return Err(VdsError::shape(format!("Unknown filter property '{bad}'.")));
    }
    let caption = obj
        .get("field")
        .and_then(|f| f.get("fieldCaption"))
        .and_then(Value::as_str)
        .ok_or_else(|| VdsError::shape("filter.field.fieldCaption is required."))?
        .to_string();
    if !FIELDS.iter().any(|d| d.caption == caption) {
        return Err(VdsError::validation(format!("Unknown Field: {caption}.")));
    }
    let values = obj
        .get("values")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| VdsError::shape("A SET filter needs 'values' (a list)."))?;
    let exclude = obj.get("exclude").and_then(Value::as_bool).unwrap_or(false);
    Ok(Box::new(move |row: &SuperstoreRow| {
        let v = row.value(&caption).unwrap_or(Value::Null);
        values.contains(&v) != exclude
    }))
}

fn aggregate(function: &str, data_type: &str, values: &[Value]) -> Value {
    let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
    let nums = || non_null.iter().filter_map(|v| v.as_f64());
    let integer = data_type == "INTEGER";
    match function {
        "COUNT" => json!(non_null.len()),
        "COUNTD" => json!(non_null
            .iter()
            .map(|v| v.to_string())
            .collect::<BTreeSet<_>>()
            .len()),
        "SUM" if non_null.is_empty() => Value::Null,
        "SUM" if integer => json!(non_null.iter().filter_map(|v| v.as_i64()).sum::<i64>()),
        "SUM" => json!(nums().sum::<f64>()),
        "AVG" if non_null.is_empty() => Value::Null,
        "AVG" => json!(nums().sum::<f64>() / non_null.len() as f64),
        "MIN" => non_null
            .iter()
            .min_by(|a, b| SortKey((**a).clone()).cmp(&SortKey((**b).clone())))
            .map(|v| (*v).clone())
            .unwrap_or(Value::Null),
        "MAX" => non_null
            .iter()
            .max_by(|a, b| SortKey((**a).clone()).cmp(&SortKey((**b).clone())))
            .map(|v| (*v).clone())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A total order on the JSON values of this data source (null < bool < number < string).
#[derive(Clone, Debug, PartialEq)]
struct SortKey(Value);

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                _ => 4,
            }
        }
        match (&self.0, &other.0) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => {
                let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                a.total_cmp(&b)
            }
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

/// Now as `2026-12-01T00:45:57.123Z`.
fn rfc3339_now() -> String {
    clock::rfc3339_now_millis()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn rows_are_deterministic_and_varied() {
        let a = superstore_rows();
        assert_eq!(a, superstore_rows());
        assert_eq!(a.len(), ROWS);
        let regions: BTreeSet<_> = a.iter().map(|r| r.region).collect();
        let categories: BTreeSet<_> = a.iter().map(|r| r.category).collect();
        assert_eq!(regions.len(), 4);
        assert_eq!(categories.len(), 3);
        assert!(a.iter().any(|r| r.profit < 0.0) && a.iter().any(|r| r.returned));
    }

    #[test]
    fn datetime_is_rfc3339() {
        let t = rfc3339_now();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
        assert!(t.as_str() > "2024-01-01", "{t}");
    }
}
