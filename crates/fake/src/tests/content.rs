//! Loopback tests of the content endpoints (sites, users, projects, workbooks, views, data
//! sources): paging in XML and JSON, the paging errors, scopes, the site rules, and counters.
//! Expected ids come from [`FakeTableau::content_ids`], never from the answers under test.

use super::*;

/// A JWT session on `site` with these scopes: (token, site LUID).
async fn jwt_session(fake: &FakeTableau, site: &str, scopes: &[&str]) -> (String, String) {
    let app = fake.default_app();
    let mut claims = good_claims(&app, &fake.default_username());
    claims["scp"] = json!(scopes);
    let jwt = mint(&good_header(&app), &claims, &app.secret_value);
    let ans = sign_in(fake, jwt_body(&jwt, site)).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    (ans.token(), site_and_user(&ans).0)
}

/// A session of the default PAT (on "mysite"): (token, site LUID).
async fn pat_session(fake: &FakeTableau) -> (String, String) {
    let ans = sign_in(fake, pat_body(&fake.default_pat(), "mysite")).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    (ans.token(), site_and_user(&ans).0)
}

/// `GET /api/{V}/{route}` asking for JSON: (status, body as JSON).
async fn get_json(fake: &FakeTableau, route: &str, token: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}/api/{V}/{route}", fake.url()))
        .header("accept", "application/json")
        .header("x-tableau-auth", token)
        .send()
        .await
        .expect("send");
    let ans = read(resp).await;
    let value = serde_json::from_str(&ans.body).expect("a JSON body");
    (ans.status, value)
}

/// The `id` of every `<tag …>` element of an XML body, in order.
fn xml_ids(body: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag} ");
    body.match_indices(&open)
        .map(|(at, _)| {
            let rest = &body[at..];
            let element = &rest[..rest.find('>').expect("element end")];
            let start = element.find(" id=\"").expect("an id") + 5;
            let end = element[start..].find('"').expect("id end") + start;
            element[start..end].to_string()
        })
        .collect()
}

/// The `<pagination>` of an XML body: (pageNumber, pageSize, totalAvailable) as written.
fn xml_pagination(body: &str) -> (String, String, String) {
    let at = body.find("<pagination ").expect("pagination");
    let ans = Answer {
        status: 0,
        headers: Default::default(),
        body: body[at..].to_string(),
    };
    (
        ans.attr("pageNumber").expect("pageNumber"),
        ans.attr("pageSize").expect("pageSize"),
        ans.attr("totalAvailable").expect("totalAvailable"),
    )
}

/// The `id` of every item of a JSON list, `{plural: {singular: [...]}}`.
fn json_ids(v: &Value, plural: &str, singular: &str) -> Vec<String> {
    v[plural][singular]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["id"].as_str().expect("id").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn xml_pages_cover_the_default_site_workbooks_once() {
    let fake = FakeTableau::start().expect("start");
    let expected = fake.content_ids("").expect("default site").workbooks;
    assert_eq!(expected.len(), DEFAULT_SITE_WORKBOOKS);
    let (token, site) = jwt_session(&fake, "", &["tableau:content:read"]).await;

    let mut seen = Vec::new();
    let pages = expected.len().div_ceil(100);
    for number in 1..=pages {
        let ans = get(
            &fake,
            &format!("sites/{site}/workbooks?pageNumber={number}"),
            Some(&token),
        )
        .await;
        assert_eq!(ans.status, 200, "{}", ans.body);
        let total = expected.len().to_string();
        assert_eq!(
            xml_pagination(&ans.body),
            (number.to_string(), "100".to_string(), total)
        );
        let ids = xml_ids(&ans.body, "workbook");
        let want = if number < pages {
            100
        } else {
            expected.len() - 100 * (pages - 1)
        };
        assert_eq!(ids.len(), want, "page {number}");
        seen.extend(ids);
    }
    assert_eq!(seen, expected);

    // Past the end: an empty list, the same total.
    let past = pages + 1;
    let ans = get(
        &fake,
        &format!("sites/{site}/workbooks?pageNumber={past}"),
        Some(&token),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert!(xml_ids(&ans.body, "workbook").is_empty(), "{}", ans.body);
    assert!(ans.body.contains("<workbooks/>"), "{}", ans.body);
    assert_eq!(xml_pagination(&ans.body).2, expected.len().to_string());

    // One page of 1000 holds everything; a page of 7 the 8th to 14th.
    let ans = get(
        &fake,
        &format!("sites/{site}/workbooks?pageSize=1000"),
        Some(&token),
    )
    .await;
    assert_eq!(xml_ids(&ans.body, "workbook"), expected);
    let ans = get(
        &fake,
        &format!("sites/{site}/workbooks?pageSize=7&pageNumber=2"),
        Some(&token),
    )
    .await;
    assert_eq!(xml_ids(&ans.body, "workbook"), expected[7..14]);
    assert_eq!(
        xml_pagination(&ans.body),
        ("2".into(), "7".into(), expected.len().to_string())
    );
}

#[tokio::test]
async fn json_pages_have_string_numbers() {
    let fake = FakeTableau::start().expect("start");
    let expected = fake.content_ids("").expect("default site").views;
    let (token, site) = jwt_session(&fake, "", &["tableau:content:read"]).await;
    let size = 150;
    let mut seen = Vec::new();
    let mut number = 1;
    loop {
        let (status, v) = get_json(
            &fake,
            &format!("sites/{site}/views?pageSize={size}&pageNumber={number}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["pagination"],
            json!({
                "pageNumber": number.to_string(),
                "pageSize": size.to_string(),
                "totalAvailable": expected.len().to_string(),
            })
        );
        let ids = json_ids(&v, "views", "view");
        if ids.is_empty() {
            assert_eq!(v["views"], json!({}), "an empty page is an empty object");
            break;
        }
        seen.extend(ids);
        number += 1;
    }
    assert_eq!(seen, expected);
    assert_eq!(number, expected.len().div_ceil(size) + 1);
}

#[tokio::test]
async fn paging_parameters_are_checked_on_every_list() {
    let fake = FakeTableau::start().expect("start");
    let (token, site) = pat_session(&fake).await;
    let lists = [
        "sites".to_string(),
        format!("sites/{site}/users"),
        format!("sites/{site}/projects"),
        format!("sites/{site}/workbooks"),
        format!("sites/{site}/views"),
        format!("sites/{site}/datasources"),
    ];
    for list in &lists {
        for (query, status, code) in [
            ("pageSize=0", 400, "400007"),
            ("pageSize=abc", 400, "400007"),
            ("pageSize=", 400, "400007"),
            ("pageSize=-5", 400, "400007"),
            ("pageSize=1001", 403, "403014"),
            ("pageNumber=0", 400, "400006"),
            ("pageNumber=x", 400, "400006"),
        ] {
            let ans = get(&fake, &format!("{list}?{query}"), Some(&token)).await;
            assert_error(&ans, status, code);
        }
        for query in ["pageSize=1", "pageSize=1000", "pageNumber=1&pageSize=100"] {
            let ans = get(&fake, &format!("{list}?{query}"), Some(&token)).await;
            assert_eq!(ans.status, 200, "{list}?{query}: {}", ans.body);
        }
        let ans = get(&fake, &format!("{list}?pageSize=1"), Some(&token)).await;
        assert_eq!(xml_pagination(&ans.body).1, "1", "{list}");
    }
    // JSON errors carry the code too.
    let (status, v) = get_json(&fake, &format!("{}?pageSize=1001", lists[3]), &token).await;
    assert_eq!((status, v["error"]["code"].as_str()), (403, Some("403014")));
}

#[tokio::test]
async fn each_list_holds_what_the_site_holds() {
    let fake = FakeTableau::start().expect("start");
    fake.configure(|s| s.add_user("mysite", "bob@example.com", None))
        .expect("user");
    let ids = fake.content_ids("mysite").expect("mysite");
    let (token, site) = pat_session(&fake).await;
    assert_eq!(site, ids.site);
    for (plural, singular, expected) in [
        ("users", "user", &ids.users),
        ("projects", "project", &ids.projects),
        ("workbooks", "workbook", &ids.workbooks),
        ("views", "view", &ids.views),
        ("datasources", "datasource", &ids.datasources),
    ] {
        assert!(!expected.is_empty(), "{plural}");
        let ans = get(&fake, &format!("sites/{site}/{plural}"), Some(&token)).await;
        assert_eq!(ans.status, 200, "{}", ans.body);
        assert_eq!(&xml_ids(&ans.body, singular), expected, "{plural} (XML)");
        assert_eq!(xml_pagination(&ans.body).2, expected.len().to_string());
        let (status, v) = get_json(&fake, &format!("sites/{site}/{plural}"), &token).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(&json_ids(&v, plural, singular), expected, "{plural} (JSON)");
    }
    assert_eq!(ids.users.len(), 3, "me, admin and bob");
    assert!(ids.datasources.contains(&fake.datasource_id()));
    assert_eq!(fake.datasource_id(), DEFAULT_DATASOURCE_LUID);

    // Shapes TSC reads: a view names its workbook and project; a workbook its project.
    let ans = get(&fake, &format!("sites/{site}/views"), Some(&token)).await;
    let first_view = &ans.body[ans.body.find("<view ").expect("a view")..];
    assert!(first_view.starts_with(&format!("<view id=\"{}\"", ids.views[0])));
    assert!(first_view.contains(&format!("<workbook id=\"{}\"/>", ids.workbooks[0])));
    let (_, v) = get_json(&fake, &format!("sites/{site}/workbooks"), &token).await;
    assert_eq!(v["workbooks"]["workbook"][0]["project"]["name"], "Default");
    assert_eq!(v["workbooks"]["workbook"][0]["showTabs"], true);
    let (_, v) = get_json(&fake, &format!("sites/{site}/projects"), &token).await;
    let projects = v["projects"]["project"].as_array().expect("projects");
    let child = projects
        .iter()
        .find(|p| p["parentProjectId"].is_string())
        .expect("a nested project");
    assert!(projects.iter().any(|p| p["id"] == child["parentProjectId"]));
}

#[tokio::test]
async fn single_items_and_their_404s() {
    let fake = FakeTableau::start().expect("start");
    let ids = fake.content_ids("mysite").expect("mysite");
    let (token, site) = pat_session(&fake).await;

    let ans = get(
        &fake,
        &format!("sites/{site}/datasources/{}", fake.datasource_id()),
        Some(&token),
    )
    .await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    assert_eq!(xml_ids(&ans.body, "datasource"), [fake.datasource_id()]);
    assert!(ans.body.contains(r#"name="Superstore Datasource""#));
    assert!(!ans.body.contains("<pagination"));
    let (status, v) = get_json(
        &fake,
        &format!("sites/{site}/workbooks/{}", ids.workbooks[1]),
        &token,
    )
    .await;
    assert_eq!(
        (status, v["workbook"]["name"].as_str()),
        (200, Some("Regional Sales"))
    );

    let nope = "00000000-0000-4000-8000-000000000000";
    assert_error(
        &get(
            &fake,
            &format!("sites/{site}/datasources/{nope}"),
            Some(&token),
        )
        .await,
        404,
        "404011",
    );
    assert_error(
        &get(
            &fake,
            &format!("sites/{site}/workbooks/{nope}"),
            Some(&token),
        )
        .await,
        404,
        "404006",
    );
    // Another site's data source is not on this site.
    let other = fake.content_ids("").expect("default site").datasources[0].clone();
    assert_error(
        &get(
            &fake,
            &format!("sites/{site}/datasources/{other}"),
            Some(&token),
        )
        .await,
        404,
        "404011",
    );
}

#[tokio::test]
async fn sites_lists_the_users_sites_and_gets_the_session_site() {
    let fake = FakeTableau::start().expect("start");
    let other = fake.configure(|s| s.add_site("other", "Other Site"));
    let (token, site) = pat_session(&fake).await;
    let default_luid = fake.site_luid("").expect("default site");

    // me@example.com is on "" and "mysite", not on "other".
    let ans = get(&fake, "sites", Some(&token)).await;
    assert_eq!(ans.status, 200, "{}", ans.body);
    let listed = xml_ids(&ans.body, "site");
    assert_eq!(listed, [default_luid.clone(), site.clone()]);
    assert_eq!(xml_pagination(&ans.body).2, "2");
    fake.configure(|s| s.add_user("other", "me@example.com", None))
        .expect("user");
    let (_, v) = get_json(&fake, "sites?pageSize=1&pageNumber=3", &token).await;
    assert_eq!(v["pagination"]["totalAvailable"], "3");
    // In content URL order: "", "mysite", "other".
    assert_eq!(json_ids(&v, "sites", "site"), [other.as_str()]);

    for route in [
        format!("sites/{site}"),
        "sites/My%20Site?key=name".to_string(),
        "sites/mysite?key=contentUrl".to_string(),
    ] {
        let ans = get(&fake, &route, Some(&token)).await;
        assert_eq!(ans.status, 200, "{route}: {}", ans.body);
        assert_eq!(
            xml_ids(&ans.body, "site"),
            std::slice::from_ref(&site),
            "{route}"
        );
        assert!(ans.body.contains(r#"contentUrl="mysite""#));
    }
    assert_error(
        &get(&fake, &format!("sites/{other}"), Some(&token)).await,
        403,
        "403000",
    );
    assert_error(
        &get(&fake, "sites/nope?key=contentUrl", Some(&token)).await,
        404,
        "404000",
    );
    assert_error(
        &get(&fake, "sites/mysite?key=color", Some(&token)).await,
        400,
        "400000",
    );
}

#[tokio::test]
async fn site_scoped_paths_must_name_the_session_site() {
    let fake = FakeTableau::start().expect("start");
    let (token, _) = pat_session(&fake).await;
    let default_luid = fake.site_luid("").expect("default site");
    for what in ["users", "projects", "workbooks", "views", "datasources"] {
        assert_error(
            &get(&fake, &format!("sites/{default_luid}/{what}"), Some(&token)).await,
            403,
            "403000",
        );
        assert_error(
            &get(&fake, &format!("sites/{default_luid}/{what}"), None).await,
            401,
            "401000",
        );
        let ans = client()
            .post(format!(
                "{}/api/{V}/sites/{default_luid}/{what}",
                fake.url()
            ))
            .header("x-tableau-auth", &token)
            .send()
            .await
            .expect("send");
        assert_error(&read(ans).await, 405, "405000");
    }
}

#[tokio::test]
async fn scopes_open_what_the_spec_says() {
    let fake = FakeTableau::start().expect("start");
    let routes = |site: &str| {
        [
            ("sites".to_string(), "sites"),
            (format!("sites/{site}"), "sites"),
            (format!("sites/{site}/users"), "users"),
            (format!("sites/{site}/projects"), "projects"),
            (format!("sites/{site}/workbooks"), "workbooks"),
            (format!("sites/{site}/views"), "views"),
            (format!("sites/{site}/datasources"), "datasources"),
            (
                format!("sites/{site}/datasources/{DEFAULT_DATASOURCE_LUID}"),
                "datasources",
            ),
        ]
    };
    // (scopes, the resources they open)
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["tableau:content:read"],
            &["sites", "projects", "workbooks", "views", "datasources"],
        ),
        (&["tableau:users:read"], &["users"]),
        (
            &["tableau:users:*", "tableau:projects:read"],
            &["users", "projects"],
        ),
        (
            &["tableau:workbooks:read", "tableau:sites:read"],
            &["workbooks", "sites"],
        ),
        (
            &[
                "tableau:views:download",
                "tableau:datasources:update",
                "tableau:*",
            ],
            &[],
        ),
        (&["tableau:viz_data_service:read"], &[]),
    ];
    for (scopes, open) in cases {
        let (token, site) = jwt_session(&fake, "mysite", scopes).await;
        for (route, resource) in routes(&site) {
            let ans = get(&fake, &route, Some(&token)).await;
            if open.contains(&resource) {
                assert_eq!(ans.status, 200, "{scopes:?} {route}: {}", ans.body);
            } else {
                assert_error(&ans, 401, "401002");
            }
        }
        assert!(
            fake.is_session_alive(&token),
            "a scope refusal keeps the session"
        );
    }
    // A PAT session is not limited by scopes.
    let (token, site) = pat_session(&fake).await;
    for (route, _) in routes(&site) {
        let ans = get(&fake, &route, Some(&token)).await;
        assert_eq!(ans.status, 200, "{route}: {}", ans.body);
    }
}

#[tokio::test]
async fn server_info_answers_both_spellings_and_content_is_counted() {
    let fake = FakeTableau::start().expect("start");
    for spelling in ["serverinfo", "serverInfo"] {
        let ans = get(&fake, spelling, None).await;
        assert_eq!(ans.status, 200, "{}", ans.body);
        assert!(ans.body.contains("<restApiVersion>3.28</restApiVersion>"));
    }
    assert_error(&get(&fake, "SERVERINFO", None).await, 404, "404000");
    let (token, site) = pat_session(&fake).await;
    for route in [
        "sites".to_string(),
        format!("sites/{site}"),
        format!("sites/{site}/users"),
        format!("sites/{site}/projects"),
        format!("sites/{site}/projects?pageSize=0"),
        format!("sites/{site}/workbooks"),
        format!(
            "sites/{site}/workbooks/{}",
            fake.content_ids("mysite").expect("ids").workbooks[0]
        ),
        format!("sites/{site}/views"),
        format!("sites/{site}/datasources/{DEFAULT_DATASOURCE_LUID}"),
    ] {
        let _ = get(&fake, &route, Some(&token)).await;
    }
    let stats = fake.stats();
    assert_eq!(stats.server_info, 2);
    assert_eq!(
        (
            stats.sites,
            stats.users,
            stats.projects,
            stats.workbooks,
            stats.views,
            stats.datasources
        ),
        (2, 1, 2, 2, 1, 1),
        "{stats:?}"
    );
    assert_eq!(stats.rejections.get("400007"), Some(&1));
}

#[tokio::test]
async fn added_workbooks_are_listed_and_paged() {
    let fake = FakeTableau::start().expect("start");
    let added = fake
        .configure(|s| s.add_workbooks("mysite", 120))
        .expect("workbooks");
    assert!(fake.configure(|s| s.add_workbooks("nope", 1)).is_err());
    let ids = fake.content_ids("mysite").expect("mysite");
    assert_eq!(ids.workbooks.len(), 123);
    assert_eq!(ids.workbooks[3..], added[..]);
    assert_eq!(ids.views.len(), 6 + 2 * 120);
    let (token, site) = pat_session(&fake).await;
    let ans = get(
        &fake,
        &format!("sites/{site}/workbooks?pageNumber=2"),
        Some(&token),
    )
    .await;
    assert_eq!(xml_ids(&ans.body, "workbook"), ids.workbooks[100..]);
    assert!(ans.body.contains(r#"name="Workbook 123""#), "{}", ans.body);

    // A data source LUID is one data source's only.
    let taken = fake.configure(|s| s.add_datasource("", "Again", Some(DEFAULT_DATASOURCE_LUID)));
    assert!(taken.is_err());
    let luid = fake
        .configure(|s| s.add_datasource("", "Another", None))
        .expect("datasource");
    assert!(fake
        .content_ids("")
        .expect("default")
        .datasources
        .contains(&luid));
}
