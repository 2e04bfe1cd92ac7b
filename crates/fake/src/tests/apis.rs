//! Loopback tests of the Metadata API, VizQL Data Service and Pulse, over raw HTTP.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::model::Workbook;
use crate::random::new_luid;
use crate::vds::{superstore_rows, SuperstoreRow};
use crate::*;

const GRAPHQL: &str = "/api/metadata/graphql";
const VDS: &str = "/api/v1/vizql-data-service";
const PULSE: &str = "/api/-/pulse";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// Status and JSON body (`Value::Null` when the body is not JSON).
struct Got {
    status: u16,
    body: Value,
}

async fn send(req: reqwest::RequestBuilder) -> Got {
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.expect("body");
    assert!(ct.starts_with("application/json"), "{ct}: {text}");
    Got {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn post_json(fake: &FakeTableau, path: &str, token: Option<&str>, body: &Value) -> Got {
    let mut req = client()
        .post(format!("{}{path}", fake.url()))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.header("X-Tableau-Auth", t);
    }
    send(req).await
}

async fn get_json(fake: &FakeTableau, path: &str, token: Option<&str>) -> Got {
    let mut req = client().get(format!("{}{path}", fake.url()));
    if let Some(t) = token {
        req = req.header("X-Tableau-Auth", t);
    }
    send(req).await
}

async fn graphql(fake: &FakeTableau, token: &str, query: &str, variables: Value) -> Got {
    post_json(
        fake,
        GRAPHQL,
        Some(token),
        &json!({"query": query, "variables": variables}),
    )
    .await
}

/// Signs in (JSON body) and returns the token.
async fn sign_in(fake: &FakeTableau, credentials: Value) -> String {
    let got = send(
        client()
            .post(format!("{}/api/3.28/auth/signin", fake.url()))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(json!({ "credentials": credentials }).to_string()),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    got.body["credentials"]["token"]
        .as_str()
        .expect("token")
        .to_string()
}

async fn pat_token(fake: &FakeTableau, site: &str) -> String {
    let pat = fake.default_pat();
    if site != fake.default_site() {
        fake.configure(|s| s.add_pat(site, &fake.default_username(), "pat-2", "secret-2"))
            .expect("pat");
        return sign_in(
            fake,
            json!({"personalAccessTokenName": "pat-2", "personalAccessTokenSecret": "secret-2", "site": {"contentUrl": site}}),
        )
        .await;
    }
    sign_in(
        fake,
        json!({"personalAccessTokenName": pat.name, "personalAccessTokenSecret": pat.secret, "site": {"contentUrl": site}}),
    )
    .await
}

/// A direct-trust JWT session on "mysite" with these scopes.
async fn jwt_token(fake: &FakeTableau, scopes: &[&str]) -> String {
    let app = fake.default_app();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": app.secret_id, "iss": app.client_id});
    let claims = json!({
        "iss": app.client_id, "sub": fake.default_username(), "aud": "tableau",
        "jti": new_luid(), "exp": now + 300, "iat": now - 5, "scp": scopes,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, app.secret_value.as_bytes());
    let jwt = format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(hmac::sign(&key, input.as_bytes()).as_ref())
    );
    sign_in(fake, json!({"jwt": jwt, "site": {"contentUrl": "mysite"}})).await
}

/// The workbooks the model holds for a site (what REST lists).
fn site_workbooks(fake: &FakeTableau, site: &str) -> Vec<Workbook> {
    fake.shared.lock().sites[site].content.workbooks.clone()
}

/// Adds `n` workbooks to a site, so that paging has pages.
fn add_workbooks(fake: &FakeTableau, site: &str, n: usize) {
    fake.configure(|s| s.add_workbooks(site, n))
        .expect("workbooks");
}

fn gql_code(got: &Got) -> String {
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body["data"].is_null(), "{}", got.body);
    got.body["errors"][0]["extensions"]["code"]
        .as_str()
        .or_else(|| got.body["errors"][0]["extensions"]["classification"].as_str())
        .unwrap_or_else(|| panic!("no error code in {}", got.body))
        .to_string()
}

fn assert_rest_401(got: &Got, code: &str) {
    assert_eq!(got.status, 401, "{}", got.body);
    assert_eq!(got.body["error"]["code"], code, "{}", got.body);
}

fn assert_vds_error(got: &Got, status: u16, code: &str) {
    assert_eq!(got.status, status, "{}", got.body);
    let obj = got.body.as_object().expect("object");
    let keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "errorCode",
            "message",
            "datetime",
            "debug",
            "tab-error-code"
        ]),
        "{}",
        got.body
    );
    assert_eq!(obj["errorCode"], code, "{}", got.body);
}

// ---------------------------------------------------------------------------------------------
// Metadata API

#[tokio::test]
async fn metadata_answers_only_the_selected_fields_with_variables_and_agrees_with_rest() {
    let fake = FakeTableau::start().expect("start");
    let token = pat_token(&fake, "mysite").await;
    let got = graphql(
        &fake,
        &token,
        "query Wbs($n: Int, $withSite: Boolean!) {
           list: workbooksConnection(first: $n) {
             nodes { name luid site @include(if: $withSite) { luid } }
             totalCount
           }
         }",
        json!({"n": 50, "withSite": false}),
    )
    .await;
    assert_eq!(got.status, 200);
    assert!(got.body.get("errors").is_none(), "{}", got.body);
    let conn = &got.body["data"]["list"];
    let keys: BTreeSet<&str> = conn
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["nodes", "totalCount"]),
        "no pageInfo unless asked"
    );
    let model = site_workbooks(&fake, "mysite");
    assert_eq!(conn["totalCount"], model.len());
    let mut from_gql = BTreeMap::new();
    for node in conn["nodes"].as_array().expect("nodes") {
        let obj = node.as_object().expect("node");
        assert_eq!(obj.len(), 2, "only name and luid: {node}");
        from_gql.insert(
            obj["luid"].as_str().expect("luid").to_string(),
            obj["name"].as_str().expect("name").to_string(),
        );
    }
    let from_model: BTreeMap<_, _> = model
        .iter()
        .map(|w| (w.luid.clone(), w.name.clone()))
        .collect();
    assert_eq!(from_gql, from_model);

    // The same workbooks through REST.
    let site_luid = fake.site_luid("mysite").expect("site");
    let rest = send(
        client()
            .get(format!(
                "{}/api/3.28/sites/{site_luid}/workbooks",
                fake.url()
            ))
            .header("X-Tableau-Auth", &token)
            .header("accept", "application/json"),
    )
    .await;
    let from_rest: BTreeMap<_, _> = rest.body["workbooks"]["workbook"]
        .as_array()
        .expect("workbooks")
        .iter()
        .map(|w| {
            (
                w["id"].as_str().expect("id").to_string(),
                w["name"].as_str().expect("name").to_string(),
            )
        })
        .collect();
    assert_eq!(from_gql, from_rest);

    // Nested objects, fragments, __typename, the plain list, filters.
    let name = &model[1].name;
    let got = graphql(
        &fake,
        &token,
        "query ($name: String) { workbooks(filter: {name: $name}) { __typename ...W site { luid } } }
         fragment W on Workbook { id projectName }",
        json!({ "name": name }),
    )
    .await;
    let list = got.body["data"]["workbooks"].as_array().expect("list");
    assert_eq!(list.len(), 1, "{}", got.body);
    assert_eq!(list[0]["__typename"], "Workbook");
    assert_eq!(list[0]["site"]["luid"], site_luid.as_str());
    assert_eq!(list[0]["projectName"], "Default");
    let id = list[0]["id"].as_str().expect("id");
    assert!(uuid::Uuid::parse_str(id).is_ok() && id != model[1].luid);
    assert_eq!(list[0].as_object().expect("obj").len(), 4);

    // Unknown fields and bad syntax are errors, without data.
    let got = graphql(&fake, &token, "{ workbooks { nope } }", json!({})).await;
    assert_eq!(gql_code(&got), "ValidationError");
    let got = graphql(&fake, &token, "{ workbooks { name }", json!({})).await;
    assert_eq!(gql_code(&got), "InvalidSyntax");
    let got = post_json(&fake, GRAPHQL, Some(&token), &json!({"variables": {}})).await;
    assert_eq!(got.status, 400);
    assert!(got.body["errors"].is_array());
}

#[tokio::test]
async fn metadata_cursor_paging_covers_every_workbook_once() {
    let fake = FakeTableau::start().expect("start");
    add_workbooks(&fake, "mysite", 8);
    let model: BTreeSet<String> = site_workbooks(&fake, "mysite")
        .into_iter()
        .map(|w| w.luid)
        .collect();
    assert_eq!(model.len(), 11);
    let token = pat_token(&fake, "mysite").await;
    let query = "query ($after: String) { workbooksConnection(first: 3, after: $after) {
                   nodes { luid } totalCount pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let got = graphql(&fake, &token, query, json!({ "after": after })).await;
        let conn = &got.body["data"]["workbooksConnection"];
        assert_eq!(conn["totalCount"], 11, "{}", got.body);
        let nodes = conn["nodes"].as_array().expect("nodes");
        assert!(nodes.len() <= 3);
        seen.extend(
            nodes
                .iter()
                .map(|n| n["luid"].as_str().expect("luid").to_string()),
        );
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
        assert!(after.is_string());
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 11, "no node twice");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), model);

    // offset gives the same pages.
    let got = graphql(
        &fake,
        &token,
        "{ workbooksConnection(first: 3, offset: 3) { nodes { luid } pageInfo { hasNextPage hasPreviousPage } } }",
        json!({}),
    )
    .await;
    let conn = &got.body["data"]["workbooksConnection"];
    let page2: Vec<&str> = conn["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["luid"].as_str().expect("luid"))
        .collect();
    assert_eq!(
        page2,
        seen[3..6].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], true);

    // after + offset, and foreign or broken cursors: INVALID_ARGUMENT.
    let first = graphql(
        &fake,
        &token,
        "{ workbooksConnection(first: 1) { pageInfo { endCursor } } }",
        json!({}),
    )
    .await;
    let cursor = first.body["data"]["workbooksConnection"]["pageInfo"]["endCursor"].clone();
    let got = graphql(
        &fake,
        &token,
        "query ($c: String) { workbooksConnection(after: $c, offset: 1) { totalCount } }",
        json!({ "c": cursor }),
    )
    .await;
    assert_eq!(gql_code(&got), "INVALID_ARGUMENT");
    assert!(got.body["errors"][0]["message"]
        .as_str()
        .expect("message")
        .contains("\"after\" and \"offset\""));
    let got = graphql(
        &fake,
        &token,
        "{ workbooksConnection(after: \"not a cursor\") { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(gql_code(&got), "INVALID_ARGUMENT");
    let got = graphql(
        &fake,
        &token,
        "query ($c: String) { publishedDatasourcesConnection(after: $c) { totalCount } }",
        json!({ "c": cursor }),
    )
    .await;
    assert_eq!(
        gql_code(&got),
        "INVALID_ARGUMENT",
        "a cursor of another type"
    );
    let other_site = pat_token(&fake, "").await;
    let got = graphql(
        &fake,
        &other_site,
        "query ($c: String) { workbooksConnection(after: $c) { totalCount } }",
        json!({ "c": cursor }),
    )
    .await;
    assert_eq!(
        gql_code(&got),
        "INVALID_ARGUMENT",
        "a cursor of another site"
    );
    let got = graphql(
        &fake,
        &token,
        "{ workbooksConnection(filter: {colour: \"red\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(gql_code(&got), "INVALID_ARGUMENT");
}

#[tokio::test]
async fn metadata_error_codes_and_backfill_warning() {
    let fake = FakeTableau::start().expect("start");
    let token = pat_token(&fake, "mysite").await;
    let q = "{ workbooks { name } }";
    assert!(graphql(&fake, &token, q, json!({})).await.body["data"]["workbooks"].is_array());

    fake.configure(|s| s.set_metadata_api_enabled(false));
    assert_eq!(
        gql_code(&graphql(&fake, &token, q, json!({})).await),
        "FEATURE_DISABLED"
    );
    fake.configure(|s| s.set_metadata_api_enabled(true));

    fake.configure(|s| s.set_metadata_access_denied(true));
    let got = graphql(&fake, &token, q, json!({})).await;
    assert_eq!(gql_code(&got), "ACCESS_DENIED");
    assert_eq!(got.body["errors"][0]["extensions"]["severity"], "ERROR");
    fake.configure(|s| s.set_metadata_access_denied(false));

    fake.configure(|s| s.set_metadata_filter_required(true));
    assert_eq!(
        gql_code(&graphql(&fake, &token, q, json!({})).await),
        "FILTER_REQUIRED"
    );
    let got = graphql(
        &fake,
        &token,
        "{ workbooksConnection(filter: {projectName: \"Default\"}) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        got.body["data"]["workbooksConnection"]["totalCount"], 3,
        "{}",
        got.body
    );
    fake.configure(|s| s.set_metadata_filter_required(false));

    fake.configure(|s| s.set_metadata_backfill_running(Some(BackfillWarning::InErrors)));
    let got = graphql(&fake, &token, q, json!({})).await;
    assert_eq!(
        got.body["data"]["workbooks"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        got.body["errors"][0]["extensions"]["code"],
        "BACKFILL_RUNNING"
    );
    assert_eq!(got.body["errors"][0]["extensions"]["severity"], "WARNING");
    fake.configure(|s| s.set_metadata_backfill_running(Some(BackfillWarning::InExtensions)));
    let got = graphql(&fake, &token, q, json!({})).await;
    assert!(got.body.get("errors").is_none());
    assert_eq!(
        got.body["extensions"]["warnings"][0]["extensions"]["code"],
        "BACKFILL_RUNNING"
    );
    fake.configure(|s| s.set_metadata_backfill_running(None));
    let got = graphql(&fake, &token, q, json!({})).await;
    assert!(got.body.get("errors").is_none() && got.body.get("extensions").is_none());

    let stats = fake.stats();
    assert_eq!(stats.metadata_api, 8);
    assert_eq!(stats.rejections.get("FEATURE_DISABLED"), Some(&1));
    assert_eq!(stats.rejections.get("FILTER_REQUIRED"), Some(&1));
}

// ---------------------------------------------------------------------------------------------
// Sessions and scopes

#[tokio::test]
async fn every_api_wants_a_live_session_and_its_scope() {
    let fake = FakeTableau::start().expect("start");
    let ds = fake.vds_datasource_id();
    let meta_q = json!({"query": "{ workbooks { luid } }"});
    let vds_q = json!({"datasource": {"datasourceLuid": ds}});
    let defs_path = format!("{PULSE}/definitions");
    let metric_id = fake.configure(|s| {
        let def = s.pulse_definition_ids()[0].clone();
        s.pulse_metric_ids(&def).expect("metrics")[0].clone()
    });
    let metrics_q = json!({"metric_ids": [metric_id]});
    let vds_md = format!("{VDS}/read-metadata");
    let batch = format!("{PULSE}/metrics:batchGet");

    // No header, a dead token.
    assert_rest_401(&post_json(&fake, GRAPHQL, None, &meta_q).await, "401000");
    assert_vds_error(
        &post_json(&fake, &vds_md, None, &vds_q).await,
        401,
        "401002",
    );
    assert_rest_401(&get_json(&fake, &defs_path, None).await, "401000");
    let dead = pat_token(&fake, "mysite").await;
    fake.expire_all_sessions();
    assert_rest_401(
        &post_json(&fake, GRAPHQL, Some(&dead), &meta_q).await,
        "401002",
    );
    assert_vds_error(
        &post_json(&fake, &vds_md, Some(&dead), &vds_q).await,
        401,
        "401002",
    );
    assert_rest_401(&get_json(&fake, &defs_path, Some(&dead)).await, "401002");
    // simple-request needs nothing.
    let health = get_json(&fake, &format!("{VDS}/simple-request"), None).await;
    assert_eq!((health.status, health.body.clone()), (200, json!("OK")));

    // A PAT session may do everything.
    let pat = pat_token(&fake, "mysite").await;
    assert!(post_json(&fake, GRAPHQL, Some(&pat), &meta_q).await.body["data"].is_object());
    assert_eq!(
        post_json(&fake, &vds_md, Some(&pat), &vds_q).await.status,
        200
    );
    assert_eq!(get_json(&fake, &defs_path, Some(&pat)).await.status, 200);
    assert_eq!(
        post_json(&fake, &batch, Some(&pat), &metrics_q)
            .await
            .status,
        200
    );

    // JWT sessions: each API opens with its own scope only.
    let content = jwt_token(&fake, &["tableau:content:read"]).await;
    assert!(post_json(&fake, GRAPHQL, Some(&content), &meta_q)
        .await
        .body["data"]
        .is_object());
    assert_vds_error(
        &post_json(&fake, &vds_md, Some(&content), &vds_q).await,
        401,
        "401002",
    );
    assert_rest_401(&get_json(&fake, &defs_path, Some(&content)).await, "401002");
    assert_rest_401(
        &post_json(&fake, &batch, Some(&content), &metrics_q).await,
        "401002",
    );
    assert!(
        fake.is_session_alive(&content),
        "a scope refusal does not end the session"
    );

    let vds_scope = jwt_token(&fake, &["tableau:viz_data_service:read"]).await;
    assert_eq!(
        post_json(&fake, &vds_md, Some(&vds_scope), &vds_q)
            .await
            .status,
        200
    );
    assert_rest_401(
        &post_json(&fake, GRAPHQL, Some(&vds_scope), &meta_q).await,
        "401002",
    );

    let defs_scope = jwt_token(&fake, &["tableau:insight_definitions_metrics:read"]).await;
    assert_eq!(
        get_json(&fake, &defs_path, Some(&defs_scope)).await.status,
        200
    );
    assert_rest_401(
        &post_json(&fake, &batch, Some(&defs_scope), &metrics_q).await,
        "401002",
    );
    let metrics_scope = jwt_token(&fake, &["tableau:insight_metrics:read"]).await;
    assert_eq!(
        post_json(&fake, &batch, Some(&metrics_scope), &metrics_q)
            .await
            .status,
        200
    );
    assert_rest_401(
        &get_json(&fake, &defs_path, Some(&metrics_scope)).await,
        "401002",
    );

    // Wildcards on the action work; `tableau:*` does not.
    let wild = jwt_token(&fake, &["tableau:viz_data_service:*"]).await;
    assert_eq!(
        post_json(&fake, &vds_md, Some(&wild), &vds_q).await.status,
        200
    );
    let all = jwt_token(&fake, &["tableau:*"]).await;
    assert_vds_error(
        &post_json(&fake, &vds_md, Some(&all), &vds_q).await,
        401,
        "401002",
    );
}

#[tokio::test]
async fn stats_count_each_api_and_a_re_sign_in() {
    let fake = FakeTableau::start().expect("start");
    let token = pat_token(&fake, "mysite").await;
    fake.reset_stats();
    let ds = fake.vds_datasource_id();
    let q = json!({"query": "{ workbooks { luid } }"});
    assert_eq!(
        post_json(&fake, GRAPHQL, Some(&token), &q).await.status,
        200
    );
    fake.expire_all_sessions();
    assert_rest_401(&post_json(&fake, GRAPHQL, Some(&token), &q).await, "401002");
    let token = pat_token(&fake, "mysite").await;
    assert_eq!(
        post_json(&fake, GRAPHQL, Some(&token), &q).await.status,
        200
    );
    let vds_q = json!({"datasource": {"datasourceLuid": ds}});
    assert_eq!(
        post_json(
            &fake,
            &format!("{VDS}/get-datasource-model"),
            Some(&token),
            &vds_q
        )
        .await
        .status,
        200
    );
    let _ = get_json(&fake, &format!("{VDS}/simple-request"), None).await;
    let _ = get_json(&fake, &format!("{PULSE}/definitions"), Some(&token)).await;
    // A misbehaviour on these paths is served (and counted) like on REST routes.
    fake.misbehave(
        "graphql",
        1,
        Misbehaviour::Fail {
            status: 503,
            code: None,
        },
    );
    let resp = client()
        .post(format!("{}{GRAPHQL}", fake.url()))
        .header("X-Tableau-Auth", &token)
        .body(q.to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 503);
    let stats = fake.stats();
    assert_eq!(stats.metadata_api, 4);
    assert_eq!(stats.vds, 2);
    assert_eq!(stats.pulse, 1);
    assert_eq!(stats.sign_ins, 1, "one re-sign-in");
    assert_eq!(stats.rejections.get("401002"), Some(&1));
    assert_eq!(stats.requests, 8);
}

// ---------------------------------------------------------------------------------------------
// VizQL Data Service

fn row_caption(r: &SuperstoreRow, caption: &str) -> String {
    r.value(caption)
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("a string field")
}

async fn query(fake: &FakeTableau, token: &str, q: Value) -> Got {
    let ds = fake.vds_datasource_id();
    post_json(
        fake,
        &format!("{VDS}/query-datasource"),
        Some(token),
        &json!({"datasource": {"datasourceLuid": ds}, "query": q}),
    )
    .await
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

#[tokio::test]
async fn vds_aggregates_by_the_dimensions() {
    let fake = FakeTableau::start().expect("start");
    let token = pat_token(&fake, "mysite").await;
    let rows = superstore_rows();
    let got = query(
        &fake,
        &token,
        json!({"fields": [
            {"fieldCaption": "Region"},
            {"fieldCaption": "Sales", "function": "SUM"},
            {"fieldCaption": "Order ID", "function": "COUNT"},
            {"fieldCaption": "Profit", "function": "AVG", "fieldAlias": "avg profit"},
            {"fieldCaption": "Quantity", "function": "MIN"},
            {"fieldCaption": "Sales", "function": "MAX"},
            {"fieldCaption": "Category", "function": "COUNTD"},
        ]}),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let data = got.body["data"].as_array().expect("data");
    let regions: BTreeSet<String> = rows.iter().map(|r| row_caption(r, "Region")).collect();
    assert_eq!(data.len(), regions.len());
    for out in data {
        let region = out["Region"].as_str().expect("region");
        let members: Vec<&SuperstoreRow> = rows.iter().filter(|r| r.region == region).collect();
        assert!(!members.is_empty());
        let sum: f64 = members.iter().map(|r| r.sales).sum();
        let avg: f64 = members.iter().map(|r| r.profit).sum::<f64>() / members.len() as f64;
        let min_q = members.iter().map(|r| r.quantity).min().expect("min");
        let max_s = members.iter().map(|r| r.sales).fold(f64::MIN, f64::max);
        let cats: BTreeSet<&str> = members.iter().map(|r| r.category).collect();
        assert!(close(&out["SUM(Sales)"], sum), "{out} vs {sum}");
        assert_eq!(out["COUNT(Order ID)"], members.len());
        assert!(close(&out["avg profit"], avg), "{out} vs {avg}");
        assert_eq!(out["MIN(Quantity)"], min_q);
        assert!(close(&out["MAX(Sales)"], max_s));
        assert_eq!(out["COUNTD(Category)"], cats.len());
        assert_eq!(out.as_object().expect("row").len(), 7);
    }

    // Two dimensions, a SET filter, sorted by the measure descending, ARRAYS.
    let got = post_json(
        &fake,
        &format!("{VDS}/query-datasource"),
        Some(&token),
        &json!({
            "datasource": {"datasourceLuid": fake.vds_datasource_id()},
            "query": {
                "fields": [
                    {"fieldCaption": "Category"},
                    {"fieldCaption": "Region"},
                    {"fieldCaption": "Quantity", "function": "SUM", "sortDirection": "DESC", "sortPriority": 1},
                ],
                "filters": [{"field": {"fieldCaption": "Region"}, "filterType": "SET", "values": ["East", "West"]}],
            },
            "options": {"returnFormat": "ARRAYS"},
        }),
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let data = got.body["data"].as_array().expect("data");
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.region == "East" || r.region == "West")
    {
        *expected
            .entry((r.category.to_string(), r.region.to_string()))
            .or_default() += r.quantity;
    }
    assert_eq!(data.len(), expected.len());
    let mut previous = i64::MAX;
    for out in data {
        let arr = out.as_array().expect("array row");
        let key = (
            arr[0].as_str().expect("category").to_string(),
            arr[1].as_str().expect("region").to_string(),
        );
        let q = arr[2].as_i64().expect("integer sum");
        assert_eq!(expected.get(&key), Some(&q), "{out}");
        assert!(q <= previous, "sorted descending");
        previous = q;
    }

    // No dimension: one row; excluded set; dimensions only: distinct values.
    let got = query(
        &fake,
        &token,
        json!({"fields": [{"fieldCaption": "Profit", "function": "SUM"}],
               "filters": [{"field": {"fieldCaption": "Category"}, "filterType": "SET", "values": ["Technology"], "exclude": true}]}),
    )
    .await;
    let total: f64 = rows
        .iter()
        .filter(|r| r.category != "Technology")
        .map(|r| r.profit)
        .sum();
    assert_eq!(got.body["data"].as_array().map(Vec::len), Some(1));
    assert!(close(&got.body["data"][0]["SUM(Profit)"], total));
    let got = query(
        &fake,
        &token,
        json!({"fields": [{"fieldCaption": "Category"}]}),
    )
    .await;
    let cats: BTreeSet<&str> = rows.iter().map(|r| r.category).collect();
    let answered: Vec<&str> = got.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["Category"].as_str().expect("cat"))
        .collect();
    assert_eq!(answered, cats.into_iter().collect::<Vec<_>>());
}

#[tokio::test]
async fn vds_metadata_model_and_errors() {
    let fake = FakeTableau::start().expect("start");
    let token = pat_token(&fake, "mysite").await;
    let ds = fake.vds_datasource_id();
    let body = json!({"datasource": {"datasourceLuid": ds}});
    let got = post_json(&fake, &format!("{VDS}/read-metadata"), Some(&token), &body).await;
    let fields = got.body["data"].as_array().expect("fields");
    let types: BTreeSet<&str> = fields
        .iter()
        .map(|f| f["dataType"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(["STRING", "DATE", "REAL", "INTEGER", "BOOLEAN"])
    );
    for f in fields {
        for key in [
            "fieldName",
            "fieldCaption",
            "defaultAggregation",
            "logicalTableId",
        ] {
            assert!(f[key].is_string(), "{f}");
        }
    }
    let got = post_json(
        &fake,
        &format!("{VDS}/get-datasource-model"),
        Some(&token),
        &body,
    )
    .await;
    assert_eq!(
        got.body["logicalTables"][0]["logicalTableId"],
        fields[0]["logicalTableId"]
    );

    // The Metadata API lists the same data source on its site.
    let got = graphql(
        &fake,
        &token,
        "{ publishedDatasources { luid name fields { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        got.body["data"]["publishedDatasources"][0]["luid"],
        ds.as_str()
    );
    assert_eq!(
        got.body["data"]["publishedDatasources"][0]["fields"]
            .as_array()
            .map(Vec::len),
        Some(fields.len())
    );

    let group_by_region = json!({"fields": [{"fieldCaption": "Region"}, {"fieldCaption": "Sales", "function": "SUM"}]});
    fake.configure(|s| s.set_vds_row_limit(Some(3)));
    assert_vds_error(
        &query(&fake, &token, group_by_region.clone()).await,
        400,
        "400804",
    );
    fake.configure(|s| s.set_vds_row_limit(Some(4)));
    assert_eq!(
        query(&fake, &token, group_by_region.clone()).await.status,
        200
    );
    fake.configure(|s| s.set_vds_row_limit(None));

    fake.configure(|s| s.set_vds_api_access(&ds, false))
        .expect("known");
    assert_vds_error(
        &query(&fake, &token, group_by_region.clone()).await,
        403,
        "403800",
    );
    assert_vds_error(
        &post_json(&fake, &format!("{VDS}/read-metadata"), Some(&token), &body).await,
        403,
        "403800",
    );
    fake.configure(|s| s.set_vds_api_access(&ds, true))
        .expect("known");
    assert!(fake
        .configure(|s| s.set_vds_api_access("no-such-ds", false))
        .is_err());

    let unknown = json!({"datasource": {"datasourceLuid": new_luid()}});
    assert_vds_error(
        &post_json(
            &fake,
            &format!("{VDS}/read-metadata"),
            Some(&token),
            &unknown,
        )
        .await,
        404,
        "404000",
    );
    let other_site = pat_token(&fake, "").await;
    assert_vds_error(
        &post_json(
            &fake,
            &format!("{VDS}/read-metadata"),
            Some(&other_site),
            &body,
        )
        .await,
        404,
        "404000",
    );
    let got = query(
        &fake,
        &token,
        json!({"fields": [{"fieldCaption": "Colour"}]}),
    )
    .await;
    assert_vds_error(&got, 400, "400803");
    assert_eq!(got.body["message"], "Unknown Field: Colour.");
    assert_vds_error(
        &query(
            &fake,
            &token,
            json!({"fields": [{"fieldCaption": "Region", "function": "SUM"}]}),
        )
        .await,
        400,
        "400803",
    );
    assert_vds_error(
        &query(&fake, &token, json!({"fields": []})).await,
        400,
        "400802",
    );
    assert_vds_error(
        &query(
            &fake,
            &token,
            json!({"fields": [{"fieldCaption": "Sales", "function": "TOTAL"}]}),
        )
        .await,
        400,
        "400802",
    );
    let resp = client()
        .post(format!("{}{VDS}/query-datasource", fake.url()))
        .header("X-Tableau-Auth", &token)
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    assert_vds_error(
        &post_json(&fake, &format!("{VDS}/nothing"), Some(&token), &body).await,
        404,
        "404950",
    );
    assert_vds_error(
        &get_json(&fake, &format!("{VDS}/read-metadata"), Some(&token)).await,
        405,
        "405000",
    );
    assert_eq!(fake.stats().rejections.get("400804"), Some(&1));
}

// ---------------------------------------------------------------------------------------------
// Pulse

#[tokio::test]
async fn pulse_pages_through_every_definition_and_batch_gets() {
    let fake = FakeTableau::start().expect("start");
    let token = pat_token(&fake, "mysite").await;
    let ids = fake.configure(|s| s.pulse_definition_ids());
    assert!(ids.len() > 30);

    for page_size in [None, Some(7), Some(1000)] {
        let mut seen = Vec::new();
        let mut page_token = String::new();
        let mut pages = 0;
        loop {
            let mut path = format!("{PULSE}/definitions?page_token={page_token}");
            if let Some(n) = page_size {
                path.push_str(&format!("&page_size={n}"));
            }
            let got = get_json(&fake, &path, Some(&token)).await;
            assert_eq!(got.status, 200, "{}", got.body);
            assert_eq!(got.body["total_available"], ids.len());
            let defs = got.body["definitions"].as_array().expect("definitions");
            assert!(defs.len() <= page_size.unwrap_or(10));
            for d in defs {
                assert_eq!(d["metrics"], json!([]), "BASIC view has no metrics");
                assert_eq!(
                    d["specification"]["datasource"]["id"],
                    fake.vds_datasource_id().as_str()
                );
                seen.push(d["metadata"]["id"].as_str().expect("id").to_string());
            }
            pages += 1;
            page_token = got.body["next_page_token"]
                .as_str()
                .expect("token")
                .to_string();
            if page_token.is_empty() {
                break;
            }
            assert!(pages < 100);
        }
        assert_eq!(seen, ids, "page size {page_size:?}");
        assert_eq!(pages, ids.len().div_ceil(page_size.unwrap_or(10)));
    }

    // batchGet keeps the order asked and leaves unknown ids out; FULL view holds the metrics.
    let wanted = json!({"definition_ids": [ids[5], "no-such-id", ids[2]]});
    let got = post_json(
        &fake,
        &format!("{PULSE}/definitions:batchGet?view=DEFINITION_VIEW_FULL"),
        Some(&token),
        &wanted,
    )
    .await;
    let defs = got.body["definitions"].as_array().expect("definitions");
    let got_ids: Vec<&str> = defs
        .iter()
        .map(|d| d["metadata"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(got_ids, vec![ids[5].as_str(), ids[2].as_str()]);
    let metric_ids = fake
        .configure(|s| s.pulse_metric_ids(&ids[5]))
        .expect("known");
    let full: Vec<&str> = defs[0]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| m["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        full,
        metric_ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(defs[0]["total_metrics"], metric_ids.len());

    let got = get_json(
        &fake,
        &format!("{PULSE}/definitions/{}/metrics", ids[5]),
        Some(&token),
    )
    .await;
    let listed: Vec<&str> = got.body["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| m["id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, full);
    assert_eq!(got.body["metrics"][0]["is_default"], true);
    assert_eq!(got.body["metrics"][0]["definition_id"], ids[5].as_str());

    let got = post_json(
        &fake,
        &format!("{PULSE}/metrics:batchGet"),
        Some(&token),
        &json!({"metric_ids": [metric_ids[0], "nope"]}),
    )
    .await;
    assert_eq!(got.body["metrics"].as_array().map(Vec::len), Some(1));
    assert_eq!(got.body["metrics"][0]["id"], metric_ids[0].as_str());

    // Errors.
    let got = get_json(
        &fake,
        &format!("{PULSE}/definitions/nope/metrics"),
        Some(&token),
    )
    .await;
    assert_eq!((got.status, got.body["code"].clone()), (404, json!(5)));
    let got = get_json(
        &fake,
        &format!("{PULSE}/definitions?page_token=garbage!"),
        Some(&token),
    )
    .await;
    assert_eq!((got.status, got.body["code"].clone()), (400, json!(3)));
    assert!(got.body["message"].is_string() && got.body["details"].is_array());
    let got = get_json(
        &fake,
        &format!("{PULSE}/definitions?page_size=5000"),
        Some(&token),
    )
    .await;
    assert_eq!(got.status, 400);
    let got = post_json(
        &fake,
        &format!("{PULSE}/definitions:batchGet"),
        Some(&token),
        &json!({"definition_ids": []}),
    )
    .await;
    assert_eq!(got.status, 400);
    let got = get_json(&fake, &format!("{PULSE}/metrics:batchGet"), Some(&token)).await;
    assert_eq!(got.status, 405);

    // Fewer definitions: one page.
    fake.configure(|s| s.set_pulse_definition_count(4));
    let got = get_json(&fake, &format!("{PULSE}/definitions"), Some(&token)).await;
    assert_eq!(got.body["definitions"].as_array().map(Vec::len), Some(4));
    assert_eq!(got.body["next_page_token"], "");
    assert_eq!(
        got.body["definitions"][3]["metadata"]["id"],
        ids[3].as_str()
    );
}
