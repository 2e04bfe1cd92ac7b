//! The Metadata API: `POST /api/metadata/graphql` with JSON `{"query", "variables",
//! "operationName"}` [doc], on the REST session (`X-Tableau-Auth`), scope
//! `tableau:content:read` for JWT sessions [doc].
//!
//! # Schema served (a small part of Tableau's)
//!
//! ```graphql
//! type Query {
//!   workbooks(filter: Workbook_Filter): [Workbook!]!
//!   workbooksConnection(first: Int, after: String, offset: Int, filter: Workbook_Filter): WorkbooksConnection!
//!   publishedDatasources(filter: PublishedDatasource_Filter): [PublishedDatasource!]!
//!   publishedDatasourcesConnection(first, after, offset, filter): PublishedDatasourcesConnection!
//! }
//! type Workbook { id luid name projectName projectLuid uri site { id luid name } }
//! type PublishedDatasource { id luid name projectName description site { ... } fields { id name description dataType } }
//! type *Connection { nodes totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
//! input *_Filter { id idWithin luid luidWithin name nameWithin projectName projectNameWithin }
//! ```
//!
//! Nodes are ordered by `id` ascending (Tableau: "If there are no given sort orders ... sorted
//! by ID in ascending order" [doc]). `id` is the Metadata API's own id, not the LUID [doc];
//! here a UUID derived from the LUID.
//!
//! # Paging
//!
//! `first` (default 100 [doc]) with `after` (an opaque cursor from `pageInfo.endCursor`), or
//! `offset`; `after` and `offset` together → `INVALID_ARGUMENT` "Can't use "after" and
//! "offset" pagination at the same time" [doc]. A cursor of another connection type or
//! another site → `INVALID_ARGUMENT` [doc]; an undecodable one too. Cursors are
//! base64url(`{type}:{site-luid}:{position}`) here (their content is [guess]; opaque to
//! clients anyway).
//!
//! # Errors and warnings (in the GraphQL `errors` list, HTTP 200, `data: null`)
//!
//! | code | when (in the fake) | grade |
//! |---|---|---|
//! | `FEATURE_DISABLED` | [`Setup::set_metadata_api_enabled`](crate::Setup::set_metadata_api_enabled)`(false)` (Server without `tsm maintenance metadata-services enable`) | code [doc], HTTP 200 [guess] |
//! | `ACCESS_DENIED` | [`Setup::set_metadata_access_denied`](crate::Setup::set_metadata_access_denied)`(true)` | code [doc] |
//! | `FILTER_REQUIRED` | [`Setup::set_metadata_filter_required`](crate::Setup::set_metadata_filter_required)`(true)` and a root field queried without `filter`. Tableau: "you must be an admin. Alternatively, if you are not an admin, you can rerun the query with a ... filter"; the fake has no site roles, so a test turns the rule on for the user it plays | code [doc], rule simplified |
//! | `INVALID_ARGUMENT` | `after` + `offset`; bad cursor; negative `first`/`offset`; unknown filter key; undefined fragment | [doc] |
//! | `BACKFILL_RUNNING` (warning) | [`Setup::set_metadata_backfill_running`](crate::Setup::set_metadata_backfill_running): `data` is answered, and the warning too, in `errors` (default) or in the top-level `extensions` | code and "warning" [doc]; where it sits is a [guess], hence configurable |
//!
//! Error objects: `{"message", "extensions": {"severity": "ERROR"|"WARNING", "code", "properties": null}}`
//! (the `severity`/`properties` shape is a [guess] after graphql-java's extensions). Syntax
//! and validation errors carry `extensions.classification` (`InvalidSyntax`,
//! `ValidationError`) as graphql-java does. A body that is not a JSON object with a string
//! `query` is HTTP 400 with an `errors` list [guess]; a wrong method is 405.

use std::rc::Rc;

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Map, Value};

use super::apis::{self, Answer, Call};
use super::graphql::{self, Args, GqlError, GqlObject, Resolved};
use super::state::{Session, State};
use super::vds;

/// The scopes that open the Metadata API for a JWT session (any one) [doc].
pub(crate) const SCOPES: &[&str] = &["tableau:content:read"];

/// Page size when `first` is not given [doc: "The default is 100"].
const DEFAULT_FIRST: usize = 100;

/// Where a `BACKFILL_RUNNING` warning is put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillWarning {
    /// In the `errors` list, beside `data`, with `extensions.severity = "WARNING"`.
    InErrors,
    /// In the top-level `extensions`: `{"warnings": [{"message", "extensions": {...}}]}`.
    InExtensions,
}

/// The Metadata API's settings.
#[derive(Clone, Debug)]
pub(crate) struct MetadataConfig {
    pub enabled: bool,
    pub access_denied: bool,
    pub filter_required: bool,
    pub backfill: Option<BackfillWarning>,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            enabled: true,
            access_denied: false,
            filter_required: false,
            backfill: None,
        }
    }
}

/// Serves `POST /api/metadata/graphql`.
pub(crate) fn answer(st: &mut State, call: &Call<'_>) -> Answer {
    if *call.method != Method::POST {
        apis::count_rejection(st, "405000");
        return Answer::json(
            405,
            &json!({"errors": [{"message": format!("Request method '{}' is not supported", call.method)}]}),
        );
    }
    let session = match apis::session(st, call, SCOPES) {
        Ok(s) => s,
        Err(failure) => return apis::rest_auth_error(st, failure),
    };
    let Some((query, variables, operation_name)) = read_request(call.body) else {
        apis::count_rejection(st, "400000");
        return Answer::json(
            400,
            &json!({"errors": [{"message": "The request body must be a JSON object with a string 'query', an optional object 'variables' and an optional string 'operationName'."}]}),
        );
    };
    let config = st.apis.metadata.clone();
    let fail = |st: &mut State, err: GqlError| {
        apis::count_rejection(st, &err.key());
        Answer::json(200, &json!({"data": null, "errors": [err.to_json()]}))
    };
    if !config.enabled {
        return fail(st, GqlError::tableau("FEATURE_DISABLED",
            "Can't run the query because the Metadata API has not been enabled yet. Run the 'tsm maintenance metadata-services enable' command to enable the Metadata API or contact your Tableau administrator."));
    }
    if config.access_denied {
        return fail(
            st,
            GqlError::tableau(
                "ACCESS_DENIED",
                "You are not authorized to use the Metadata API.",
            ),
        );
    }
    let Some(content) = site_content(st, &session) else {
        return apis::rest_auth_error(st, apis::AuthFailure::Invalid);
    };
    let root = Rc::new(QueryRoot {
        content: Rc::new(content),
        filter_required: config.filter_required,
    });
    let request = graphql::Request {
        query: &query,
        variables: &variables,
        operation_name: operation_name.as_deref(),
    };
    match graphql::execute(&request, root) {
        Err(err) => fail(st, err),
        Ok(data) => {
            let mut body = json!({ "data": data });
            if let Some(place) = config.backfill {
                let warning = json!({
                    "message": "Still creating the Metadata API Store. Results from the query may be incomplete at this time.",
                    "extensions": {"severity": "WARNING", "code": "BACKFILL_RUNNING", "properties": null},
                });
                match place {
                    BackfillWarning::InErrors => body["errors"] = json!([warning]),
                    BackfillWarning::InExtensions => {
                        body["extensions"] = json!({"warnings": [warning]})
                    }
                }
            }
            Answer::json(200, &body)
        }
    }
}

type ParsedRequest = (String, Map<String, Value>, Option<String>);

fn read_request(body: &[u8]) -> Option<ParsedRequest> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    let query = obj.get("query")?.as_str()?.to_string();
    let variables = match obj.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return None,
    };
    let operation_name = match obj.get("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return None,
    };
    Some((query, variables, operation_name))
}

// ---------------------------------------------------------------------------------------------
// Data: what the session's site holds. `site_content` is the one place that reads the
// model; re-point it when the REST content grows (projects, data sources, more workbooks).

/// A workbook as the Metadata API shows it.
#[derive(Clone, Debug)]
pub(crate) struct WorkbookNode {
    pub id: String,
    pub luid: String,
    pub name: String,
    pub project_name: String,
    pub project_luid: String,
    pub uri: String,
    pub site: SiteRef,
}

/// The site a node belongs to (`site { id luid name }`).
#[derive(Clone, Debug)]
pub(crate) struct SiteRef {
    pub id: String,
    pub luid: String,
    pub name: String,
}

/// A published data source as the Metadata API shows it.
#[derive(Clone, Debug)]
pub(crate) struct DatasourceNode {
    pub id: String,
    pub luid: String,
    pub name: String,
    pub project_name: String,
    pub description: String,
    /// (caption, VDS data type).
    pub fields: Vec<(String, String)>,
    pub site: SiteRef,
}

/// The content of one site.
#[derive(Clone, Debug)]
pub(crate) struct SiteContent {
    pub site: SiteRef,
    pub workbooks: Vec<WorkbookNode>,
    pub datasources: Vec<DatasourceNode>,
}

/// The Metadata API's view of the session's site (the same workbooks REST lists, and the VDS
/// data source when it lives there); `None` when the site is gone.
pub(crate) fn site_content(st: &State, session: &Session) -> Option<SiteContent> {
    let site = st.site_by_luid(&session.site_luid)?;
    let site_ref = SiteRef {
        id: metadata_id(&site.luid),
        luid: site.luid.clone(),
        name: site.name.clone(),
    };
    let mut workbooks: Vec<WorkbookNode> = site
        .content
        .workbooks
        .iter()
        .map(|wb| WorkbookNode {
            id: metadata_id(&wb.luid),
            luid: wb.luid.clone(),
            name: wb.name.clone(),
            project_name: site
                .content
                .project(&wb.project_luid)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            project_luid: wb.project_luid.clone(),
            uri: format!("sites/{}/workbooks/{}", site.luid, wb.content_url),
            site: site_ref.clone(),
        })
        .collect();
    workbooks.sort_by(|a, b| a.id.cmp(&b.id));
    let mut datasources: Vec<DatasourceNode> = vds::published_datasources(st, &site.content_url)
        .into_iter()
        .map(|ds| DatasourceNode {
            id: metadata_id(&ds.luid),
            luid: ds.luid,
            name: ds.name,
            project_name: "Default".to_string(),
            description: ds.description,
            fields: ds.fields,
            site: site_ref.clone(),
        })
        .collect();
    datasources.sort_by(|a, b| a.id.cmp(&b.id));
    Some(SiteContent {
        site: site_ref,
        workbooks,
        datasources,
    })
}

/// The Metadata API id of a LUID: a UUID from its SHA-256, stable and distinct from it.
pub(crate) fn metadata_id(luid: &str) -> String {
    let d = digest::digest(&digest::SHA256, format!("metadata-id:{luid}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

// ---------------------------------------------------------------------------------------------
// Schema

struct QueryRoot {
    content: Rc<SiteContent>,
    filter_required: bool,
}

impl QueryRoot {
    fn filtered<T: Filterable>(&self, items: &[T], args: &Args) -> Result<Vec<T>, GqlError> {
        let filter = match args.get("filter") {
            None | Some(Value::Null) => {
                if self.filter_required {
                    return Err(GqlError::tableau("FILTER_REQUIRED",
                        "Can't run the query because you must be an admin. Alternatively, if you are not an admin, you can rerun the query with a field name filter to return results."));
                }
                return Ok(items.to_vec());
            }
            Some(Value::Object(f)) => f,
            Some(other) => {
                return Err(GqlError::invalid_argument(format!(
                    "The filter must be an input object, not {other}."
                )))
            }
        };
        let mut out = Vec::new();
        'items: for item in items {
            for (key, wanted) in filter {
                let (field, within) = match key.strip_suffix("Within") {
                    Some(f) => (f, true),
                    None => (key.as_str(), false),
                };
                let Some(actual) = item.filter_value(field) else {
                    return Err(GqlError::invalid_argument(format!(
                        "The filter field '{key}' is not defined for type '{}'.",
                        T::TYPE
                    )));
                };
                let matches = match (within, wanted) {
                    (_, Value::Null) => true,
                    (false, Value::String(s)) => *s == actual,
                    (true, Value::Array(list)) => list.iter().any(|v| v.as_str() == Some(&actual)),
                    _ => {
                        return Err(GqlError::invalid_argument(format!(
                            "The filter field '{key}' has a value of the wrong type."
                        )))
                    }
                };
                if !matches {
                    continue 'items;
                }
            }
            out.push(item.clone());
        }
        Ok(out)
    }

    fn connection<T: Filterable + 'static>(
        &self,
        items: &[T],
        args: &Args,
    ) -> Result<Resolved, GqlError> {
        let all = self.filtered(items, args)?;
        let int_arg = |name: &str| -> Result<Option<usize>, GqlError> {
            match args.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(Some)
                    .ok_or_else(|| {
                        GqlError::invalid_argument(format!(
                            "The argument '{name}' must be a non-negative integer."
                        ))
                    }),
            }
        };
        let first = int_arg("first")?.unwrap_or(DEFAULT_FIRST);
        let offset = int_arg("offset")?;
        let after = match args.get("after") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(GqlError::invalid_argument("The cursor must be a string.")),
        };
        let start = match (after, offset) {
            (Some(_), Some(_)) => {
                return Err(GqlError::invalid_argument(
                    "Can't use \"after\" and \"offset\" pagination at the same time. Remove one of the arguments from the query.",
                ))
            }
            (Some(cursor), None) => self.read_cursor(&cursor, T::TYPE)? + 1,
            (None, Some(offset)) => offset,
            (None, None) => 0,
        };
        let start = start.min(all.len());
        let end = start.saturating_add(first).min(all.len());
        let cursor = |pos: usize| self.cursor(T::TYPE, pos);
        let nodes: Vec<Rc<dyn GqlObject>> = all[start..end]
            .iter()
            .map(|n| Rc::new(n.clone()) as Rc<dyn GqlObject>)
            .collect();
        Ok(Resolved::Object(Rc::new(Connection {
            type_name: T::CONNECTION,
            nodes,
            total: all.len(),
            page: Rc::new(PageInfo {
                has_next: end < all.len(),
                has_previous: start > 0,
                start_cursor: (end > start).then(|| cursor(start)),
                end_cursor: (end > start).then(|| cursor(end - 1)),
            }),
        })))
    }

    fn cursor(&self, type_name: &str, position: usize) -> String {
        URL_SAFE_NO_PAD.encode(format!("{type_name}:{}:{position}", self.content.site.luid))
    }

    fn read_cursor(&self, cursor: &str, type_name: &str) -> Result<usize, GqlError> {
        let invalid = || GqlError::invalid_argument("The query contains an invalid cursor.");
        let text = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let mut parts = text.splitn(3, ':');
        let (Some(kind), Some(site), Some(pos)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        if kind != type_name {
            return Err(GqlError::invalid_argument(
                "The query contains an invalid cursor. Make sure to use cursors of the same type.",
            ));
        }
        if site != self.content.site.luid {
            return Err(GqlError::invalid_argument(
                "The query contains an invalid cursor. Make sure to use cursors that belong to the same site.",
            ));
        }
        pos.parse().map_err(|_| invalid())
    }
}

impl GqlObject for QueryRoot {
    fn type_name(&self) -> &'static str {
        "Query"
    }

    fn resolve(&self, field: &str, args: &Args) -> Result<Option<Resolved>, GqlError> {
        Ok(Some(match field {
            "workbooks" => Resolved::List(
                self.filtered(&self.content.workbooks, args)?
                    .into_iter()
                    .map(|w| Rc::new(w) as Rc<dyn GqlObject>)
                    .collect(),
            ),
            "workbooksConnection" => self.connection(&self.content.workbooks, args)?,
            "publishedDatasources" => Resolved::List(
                self.filtered(&self.content.datasources, args)?
                    .into_iter()
                    .map(|d| Rc::new(d) as Rc<dyn GqlObject>)
                    .collect(),
            ),
            "publishedDatasourcesConnection" => self.connection(&self.content.datasources, args)?,
            _ => return Ok(None),
        }))
    }
}

/// A node type that filters and pages.
trait Filterable: Clone + GqlObject {
    const TYPE: &'static str;
    const CONNECTION: &'static str;
    /// The value compared by filter key `field` (and `{field}Within`): the field's own value,
    /// for the keys Tableau's filters take.
    fn filter_value(&self, field: &str) -> Option<String> {
        if !FILTER_KEYS.contains(&field) {
            return None;
        }
        match self.resolve(field, &Args::new()) {
            Ok(Some(Resolved::Leaf(Value::String(s)))) => Some(s),
            _ => None,
        }
    }
}

/// The filter keys the connections take.
const FILTER_KEYS: [&str; 4] = ["id", "luid", "name", "projectName"];

impl Filterable for WorkbookNode {
    const TYPE: &'static str = "Workbook";
    const CONNECTION: &'static str = "WorkbooksConnection";
}

impl GqlObject for WorkbookNode {
    fn type_name(&self) -> &'static str {
        "Workbook"
    }

    fn resolve(&self, field: &str, _args: &Args) -> Result<Option<Resolved>, GqlError> {
        let leaf = |s: &str| Some(Resolved::Leaf(json!(s)));
        Ok(match field {
            "id" => leaf(&self.id),
            "luid" => leaf(&self.luid),
            "name" => leaf(&self.name),
            "projectName" => leaf(&self.project_name),
            "projectLuid" => leaf(&self.project_luid),
            "uri" => leaf(&self.uri),
            "site" => Some(Resolved::Object(Rc::new(self.site.clone()))),
            _ => None,
        })
    }
}

impl Filterable for DatasourceNode {
    const TYPE: &'static str = "PublishedDatasource";
    const CONNECTION: &'static str = "PublishedDatasourcesConnection";
}

impl GqlObject for DatasourceNode {
    fn type_name(&self) -> &'static str {
        "PublishedDatasource"
    }

    fn resolve(&self, field: &str, _args: &Args) -> Result<Option<Resolved>, GqlError> {
        let leaf = |s: &str| Some(Resolved::Leaf(json!(s)));
        Ok(match field {
            "id" => leaf(&self.id),
            "luid" => leaf(&self.luid),
            "name" => leaf(&self.name),
            "projectName" => leaf(&self.project_name),
            "description" => leaf(&self.description),
            "site" => Some(Resolved::Object(Rc::new(self.site.clone()))),
            "fields" => Some(Resolved::List(
                self.fields
                    .iter()
                    .map(|(name, ty)| {
                        Rc::new(FieldObj {
                            id: metadata_id(&format!("{}/{name}", self.luid)),
                            name: name.clone(),
                            data_type: ty.clone(),
                        }) as Rc<dyn GqlObject>
                    })
                    .collect(),
            )),
            _ => None,
        })
    }
}

struct FieldObj {
    id: String,
    name: String,
    data_type: String,
}

impl GqlObject for FieldObj {
    fn type_name(&self) -> &'static str {
        "ColumnField"
    }

    fn resolve(&self, field: &str, _args: &Args) -> Result<Option<Resolved>, GqlError> {
        Ok(match field {
            "id" => Some(Resolved::Leaf(json!(self.id))),
            "name" => Some(Resolved::Leaf(json!(self.name))),
            "dataType" => Some(Resolved::Leaf(json!(self.data_type))),
            "description" => Some(Resolved::Leaf(json!(""))),
            _ => None,
        })
    }
}

impl GqlObject for SiteRef {
    fn type_name(&self) -> &'static str {
        "TableauSite"
    }

    fn resolve(&self, field: &str, _args: &Args) -> Result<Option<Resolved>, GqlError> {
        Ok(match field {
            "id" => Some(Resolved::Leaf(json!(self.id))),
            "luid" => Some(Resolved::Leaf(json!(self.luid))),
            "name" => Some(Resolved::Leaf(json!(self.name))),
            _ => None,
        })
    }
}

struct PageInfo {
    has_next: bool,
    has_previous: bool,
    start_cursor: Option<String>,
    end_cursor: Option<String>,
}

struct Connection {
    type_name: &'static str,
    nodes: Vec<Rc<dyn GqlObject>>,
    total: usize,
    page: Rc<PageInfo>,
}

impl GqlObject for Connection {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn resolve(&self, field: &str, _args: &Args) -> Result<Option<Resolved>, GqlError> {
        Ok(match field {
            "nodes" => Some(Resolved::List(self.nodes.clone())),
            "totalCount" => Some(Resolved::Leaf(json!(self.total))),
            "pageInfo" => Some(Resolved::Object(self.page.clone())),
            _ => None,
        })
    }
}

impl GqlObject for PageInfo {
    fn type_name(&self) -> &'static str {
        "PageInfo"
    }

    fn resolve(&self, field: &str, _args: &Args) -> Result<Option<Resolved>, GqlError> {
        Ok(match field {
            "hasNextPage" => Some(Resolved::Leaf(json!(self.has_next))),
            "hasPreviousPage" => Some(Resolved::Leaf(json!(self.has_previous))),
            "startCursor" => Some(Resolved::Leaf(json!(self.start_cursor))),
            "endCursor" => Some(Resolved::Leaf(json!(self.end_cursor))),
            _ => None,
        })
    }
}
