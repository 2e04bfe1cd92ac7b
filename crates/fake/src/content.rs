//! A site's content as the fake makes it: the projects, workbooks (with their views) and
//! published data sources every new site starts with, and more generated workbooks on demand
//! (so that REST paging has something to page through). Fixed names, fresh LUIDs.

use super::model::{Content, Datasource, Project, View, Workbook};
use super::random::new_luid;

/// Projects every site starts with: (name, description, index of the parent project).
const PROJECTS: [(&str, &str, Option<usize>); 4] = [
    (
        "Default",
        "The default project that was automatically created by Tableau.",
        None,
    ),
    ("Samples", "Sample workbooks and data sources.", None),
    ("Finance", "Finance team content.", None),
    ("Finance Reports", "Published finance reports.", Some(2)),
];

/// Workbooks every site starts with, in the project "Default": (name, content URL base, the
/// views' names). The third name needs escaping in XML.
const WORKBOOKS: [(&str, &str, &[&str]); 3] = [
    (
        "Superstore",
        "Superstore",
        &["Overview", "Product", "Customers"],
    ),
    ("Regional Sales", "RegionalSales", &["Map", "Trend"]),
    ("Q&A <Draft> \"v2\"", "QADraftv2", &["Sheet 1"]),
];

/// Published data sources every site starts with: (name, content URL base, type, extract,
/// certified, index of the project).
const DATASOURCES: [(&str, &str, &str, bool, bool, usize); 2] = [
    (
        "Sales Pipeline",
        "SalesPipeline",
        "postgres",
        false,
        false,
        2,
    ),
    ("Web Traffic", "WebTraffic", "hyper", true, false, 1),
];

/// The views of a generated workbook.
const GENERATED_VIEWS: [&str; 2] = ["Summary", "Detail"];

/// A content URL unique on the server: the base on the default site (`""`), else suffixed
/// with the site's content URL.
fn scoped(base: &str, site_content_url: &str) -> String {
    if site_content_url.is_empty() {
        base.to_string()
    } else {
        format!("{base}_{site_content_url}")
    }
}

/// A timestamp in Tableau's form, varying with `n` (deterministic).
fn timestamp(n: usize) -> String {
    format!(
        "2024-{:02}-{:02}T{:02}:{:02}:00Z",
        1 + (n / 28) % 12,
        1 + n % 28,
        n % 24,
        (n * 7) % 60
    )
}

/// A view's URL name: its name without spaces.
fn url_name(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// The content a new site starts with.
pub(crate) fn initial(site_content_url: &str) -> Content {
    let mut content = Content::default();
    for (i, (name, description, parent)) in PROJECTS.iter().enumerate() {
        let parent_luid = parent.map(|p| content.projects[p].luid.clone());
        content.projects.push(Project {
            luid: new_luid(),
            name: (*name).to_string(),
            description: (*description).to_string(),
            parent_luid,
            created_at: timestamp(i),
        });
    }
    let default_project = content.projects[0].luid.clone();
    for (name, url, views) in WORKBOOKS {
        add_workbook(
            &mut content,
            name,
            &scoped(url, site_content_url),
            &default_project,
            views,
        );
    }
    for (i, (name, url, kind, extract, certified, project)) in DATASOURCES.iter().enumerate() {
        let project_luid = content.projects[*project].luid.clone();
        content.datasources.push(Datasource {
            luid: new_luid(),
            name: (*name).to_string(),
            content_url: scoped(url, site_content_url),
            kind: (*kind).to_string(),
            has_extracts: *extract,
            is_certified: *certified,
            project_luid,
            created_at: timestamp(i + 50),
        });
    }
    content
}

/// Adds a workbook and its views; returns the workbook's LUID.
fn add_workbook(
    content: &mut Content,
    name: &str,
    content_url: &str,
    project_luid: &str,
    views: &[&str],
) -> String {
    let n = content.workbooks.len();
    let workbook = Workbook {
        luid: new_luid(),
        name: name.to_string(),
        content_url: content_url.to_string(),
        project_luid: project_luid.to_string(),
        created_at: timestamp(n + 100),
    };
    for view in views {
        let view_url_name = url_name(view);
        content.views.push(View {
            luid: new_luid(),
            name: (*view).to_string(),
            content_url: format!("{content_url}/sheets/{view_url_name}"),
            view_url_name,
            workbook_luid: workbook.luid.clone(),
            project_luid: project_luid.to_string(),
            created_at: workbook.created_at.clone(),
        });
    }
    let luid = workbook.luid.clone();
    content.workbooks.push(workbook);
    luid
}

/// Adds `count` generated workbooks ("Workbook 004", …, numbered on from the site's count),
/// spread over the site's projects, each with two views; returns their LUIDs.
pub(crate) fn add_generated_workbooks(
    content: &mut Content,
    site_content_url: &str,
    count: usize,
) -> Vec<String> {
    let mut added = Vec::with_capacity(count);
    for _ in 0..count {
        let number = content.workbooks.len() + 1;
        let project_luid = match content.projects.len() {
            0 => String::new(),
            len => content.projects[number % len].luid.clone(),
        };
        added.push(add_workbook(
            content,
            &format!("Workbook {number:03}"),
            &scoped(&format!("Workbook{number:03}"), site_content_url),
            &project_luid,
            &GENERATED_VIEWS,
        ));
    }
    added
}

/// Adds a published data source (an extract, in the first project) with this LUID.
pub(crate) fn add_datasource(
    content: &mut Content,
    site_content_url: &str,
    name: &str,
    luid: String,
) {
    let base = url_name(name);
    let project_luid = content
        .projects
        .first()
        .map(|p| p.luid.clone())
        .unwrap_or_default();
    let n = content.datasources.len();
    content.datasources.push(Datasource {
        luid,
        name: name.to_string(),
        content_url: scoped(&base, site_content_url),
        kind: "hyper".to_string(),
        has_extracts: true,
        is_certified: true,
        project_luid,
        created_at: timestamp(n + 50),
    });
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn initial_content_hangs_together() {
        let c = initial("s");
        assert_eq!(c.projects.len(), PROJECTS.len());
        assert_eq!(c.projects[3].parent_luid, Some(c.projects[2].luid.clone()));
        assert_eq!(c.workbooks.len(), 3);
        assert_eq!(c.views.len(), 6);
        assert!(c
            .views
            .iter()
            .all(|v| c.workbooks.iter().any(|w| w.luid == v.workbook_luid)));
        assert_eq!(c.workbooks[0].content_url, "Superstore_s");
        assert_eq!(c.views[0].content_url, "Superstore_s/sheets/Overview");
        assert_eq!(initial("").workbooks[1].content_url, "RegionalSales");
    }

    #[test]
    fn generated_workbooks_number_on_and_have_views() {
        let mut c = initial("");
        let added = add_generated_workbooks(&mut c, "", 5);
        assert_eq!(added.len(), 5);
        assert_eq!(c.workbooks.len(), 8);
        assert_eq!(c.workbooks[3].name, "Workbook 004");
        assert_eq!(c.workbooks[7].content_url, "Workbook008");
        assert_eq!(c.views.len(), 6 + 10);
        let mut urls: Vec<_> = c.workbooks.iter().map(|w| &w.content_url).collect();
        urls.sort();
        urls.dedup();
        assert_eq!(urls.len(), 8, "content URLs are unique");
    }
}
