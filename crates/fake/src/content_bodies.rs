//! Bodies of the content endpoints (sites, users, projects, workbooks, views, data sources),
//! in Tableau's shapes: one element tree rendered as XML (attributes and child elements) or as
//! Tableau's JSON (attributes become members, child elements nested objects, a list
//! `{"workbooks": {"workbook": [...]}}`, an empty list `{"workbooks": {}}`). Pagination
//! numbers are strings in JSON, as Tableau sends them.

use serde_json::{Map, Value};

use super::model::{Datasource, Project, Site, User, View, Workbook};
use super::paging::Page;
use super::responses::{wrap, xml_escape, Format};

/// An attribute value.
enum Attr {
    Text(String),
    Bool(bool),
}

/// An element: name, attributes, child elements.
struct Element {
    name: &'static str,
    attrs: Vec<(&'static str, Attr)>,
    children: Vec<Element>,
}

impl Element {
    fn new(name: &'static str) -> Self {
        Element {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    fn text(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.attrs.push((key, Attr::Text(value.into())));
        self
    }

    fn flag(mut self, key: &'static str, value: bool) -> Self {
        self.attrs.push((key, Attr::Bool(value)));
        self
    }

    fn child(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    fn xml(&self) -> String {
        let mut out = format!("<{}", self.name);
        for (key, value) in &self.attrs {
            let value = match value {
                Attr::Text(t) => xml_escape(t),
                Attr::Bool(b) => b.to_string(),
            };
            out.push_str(&format!(" {key}=\"{value}\""));
        }
        if self.children.is_empty() {
            out.push_str("/>");
        } else {
            out.push('>');
            for child in &self.children {
                out.push_str(&child.xml());
            }
            out.push_str(&format!("</{}>", self.name));
        }
        out
    }

    fn json(&self) -> Value {
        let mut map = Map::new();
        for (key, value) in &self.attrs {
            let value = match value {
                Attr::Text(t) => Value::String(t.clone()),
                Attr::Bool(b) => Value::Bool(*b),
            };
            map.insert((*key).to_string(), value);
        }
        for child in &self.children {
            map.insert(child.name.to_string(), child.json());
        }
        Value::Object(map)
    }
}

/// A page of a list: `<pagination/><plural><singular/>…</plural>` or its JSON.
fn list_body(
    format: Format,
    page: Page,
    total: usize,
    plural: &str,
    items: Vec<Element>,
) -> String {
    let (number, size, total) = (
        page.number.to_string(),
        page.size.to_string(),
        total.to_string(),
    );
    match format {
        Format::Xml => {
            let inner: String = items.iter().map(Element::xml).collect();
            let list = if inner.is_empty() {
                format!("<{plural}/>")
            } else {
                format!("<{plural}>{inner}</{plural}>")
            };
            wrap(&format!(
                "<pagination pageNumber=\"{number}\" pageSize=\"{size}\" totalAvailable=\"{total}\"/>{list}"
            ))
        }
        Format::Json => {
            let mut list = Map::new();
            if let Some(first) = items.first() {
                list.insert(
                    first.name.to_string(),
                    Value::Array(items.iter().map(Element::json).collect()),
                );
            }
            let mut root = Map::new();
            root.insert(
                "pagination".into(),
                serde_json::json!({"pageNumber": number, "pageSize": size, "totalAvailable": total}),
            );
            root.insert(plural.to_string(), Value::Object(list));
            Value::Object(root).to_string()
        }
    }
}

/// One item: `<tsResponse><singular/></tsResponse>` or `{"singular": {…}}`.
fn single_body(format: Format, item: Element) -> String {
    match format {
        Format::Xml => wrap(&item.xml()),
        Format::Json => {
            let mut root = Map::new();
            root.insert(item.name.to_string(), item.json());
            Value::Object(root).to_string()
        }
    }
}

/// The page of `items` that `page` names, each made an element by `element`.
fn paged<T>(
    format: Format,
    page: Page,
    plural: &str,
    items: &[T],
    element: impl Fn(&T) -> Element,
) -> String {
    let shown = page.slice(items).iter().map(element).collect();
    list_body(format, page, items.len(), plural, shown)
}

// ---------------------------------------------------------------------------------------------
// The elements

fn site_element(site: &Site) -> Element {
    Element::new("site")
        .text("id", &site.luid)
        .text("name", &site.name)
        .text("contentUrl", &site.content_url)
        .text("adminMode", "ContentAndUsers")
        .text("state", "Active")
        .flag("disableSubscriptions", false)
        .flag("revisionHistoryEnabled", true)
        .text("revisionLimit", "25")
        .flag("catalogingEnabled", true)
}

fn user_element(user: &User) -> Element {
    Element::new("user")
        .text("id", &user.luid)
        .text("name", &user.name)
        .text("siteRole", "Explorer")
        .text("authSetting", "ServerDefault")
        .text("externalAuthUserId", "")
        .child(Element::new("domain").text("name", "local"))
}

fn project_ref(site: &Site, luid: &str) -> Element {
    let name = site
        .content
        .project(luid)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    Element::new("project").text("id", luid).text("name", name)
}

/// `<owner id=… name=…/>`: Tableau names every item's owner (TSC 0.38 needs it on a data
/// source). The fake's content belongs to the site's first user.
fn owner_ref(site: &Site) -> Element {
    let mut el = Element::new("owner");
    if let Some(user) = site.users.values().next() {
        el = el.text("id", &user.luid).text("name", &user.name);
    }
    el
}

fn project_element(project: &Project) -> Element {
    let mut el = Element::new("project")
        .text("id", &project.luid)
        .text("name", &project.name)
        .text("description", &project.description)
        .text("contentPermissions", "ManagedByOwner");
    if let Some(parent) = &project.parent_luid {
        el = el.text("parentProjectId", parent);
    }
    el.text("createdAt", &project.created_at)
        .text("updatedAt", &project.created_at)
        .flag("topLevelProject", project.parent_luid.is_none())
        .flag("writeable", true)
}

fn workbook_element(site: &Site, wb: &Workbook) -> Element {
    let mut el = Element::new("workbook")
        .text("id", &wb.luid)
        .text("name", &wb.name)
        .text("contentUrl", &wb.content_url)
        .flag("showTabs", true)
        .text("size", "1")
        .text("createdAt", &wb.created_at)
        .text("updatedAt", &wb.created_at)
        .flag("encryptExtracts", false);
    if let Some(first) = site
        .content
        .views
        .iter()
        .find(|v| v.workbook_luid == wb.luid)
    {
        el = el.text("defaultViewId", &first.luid);
    }
    el.child(project_ref(site, &wb.project_luid))
        .child(owner_ref(site))
        .child(Element::new("tags"))
}

fn view_element(site: &Site, view: &View) -> Element {
    Element::new("view")
        .text("id", &view.luid)
        .text("name", &view.name)
        .text("contentUrl", &view.content_url)
        .text("createdAt", &view.created_at)
        .text("updatedAt", &view.created_at)
        .text("viewUrlName", &view.view_url_name)
        .text("sheetType", "worksheet")
        .child(Element::new("workbook").text("id", &view.workbook_luid))
        .child(project_ref(site, &view.project_luid))
        .child(owner_ref(site))
        .child(Element::new("tags"))
}

fn datasource_element(site: &Site, ds: &Datasource) -> Element {
    Element::new("datasource")
        .text("id", &ds.luid)
        .text("name", &ds.name)
        .text("contentUrl", &ds.content_url)
        .text("type", &ds.kind)
        .text("description", "")
        .text("createdAt", &ds.created_at)
        .text("updatedAt", &ds.created_at)
        .flag("isCertified", ds.is_certified)
        .flag("hasExtracts", ds.has_extracts)
        .flag("encryptExtracts", false)
        .flag("useRemoteQueryAgent", false)
        .child(project_ref(site, &ds.project_luid))
        .child(owner_ref(site))
        .child(Element::new("tags"))
}

// ---------------------------------------------------------------------------------------------
// The bodies

/// `GET sites`: the sites given, a page of them.
pub(crate) fn sites_body(format: Format, page: Page, sites: &[&Site]) -> String {
    paged(format, page, "sites", sites, |s| site_element(s))
}

/// `GET sites/{id}` (and by name or content URL).
pub(crate) fn site_body(format: Format, site: &Site) -> String {
    single_body(format, site_element(site))
}

/// `GET sites/{luid}/users`.
pub(crate) fn users_body(format: Format, page: Page, site: &Site) -> String {
    let users: Vec<&User> = site.users.values().collect();
    paged(format, page, "users", &users, |u| user_element(u))
}

/// `GET sites/{luid}/projects`.
pub(crate) fn projects_body(format: Format, page: Page, site: &Site) -> String {
    paged(
        format,
        page,
        "projects",
        &site.content.projects,
        project_element,
    )
}

/// `GET sites/{luid}/workbooks`.
pub(crate) fn workbooks_body(format: Format, page: Page, site: &Site) -> String {
    paged(format, page, "workbooks", &site.content.workbooks, |w| {
        workbook_element(site, w)
    })
}

/// `GET sites/{luid}/workbooks/{luid}`.
pub(crate) fn workbook_body(format: Format, site: &Site, wb: &Workbook) -> String {
    single_body(format, workbook_element(site, wb))
}

/// `GET sites/{luid}/views`.
pub(crate) fn views_body(format: Format, page: Page, site: &Site) -> String {
    paged(format, page, "views", &site.content.views, |v| {
        view_element(site, v)
    })
}

/// `GET sites/{luid}/datasources`.
pub(crate) fn datasources_body(format: Format, page: Page, site: &Site) -> String {
    paged(
        format,
        page,
        "datasources",
        &site.content.datasources,
        |d| datasource_element(site, d),
    )
}

/// `GET sites/{luid}/datasources/{luid}`.
pub(crate) fn datasource_body(format: Format, site: &Site, ds: &Datasource) -> String {
    single_body(format, datasource_element(site, ds))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn element_renders_both_ways() {
        let el = Element::new("workbook")
            .text("name", "a&\"b")
            .flag("showTabs", true)
            .child(Element::new("project").text("id", "p"))
            .child(Element::new("tags"));
        assert_eq!(
            el.xml(),
            r#"<workbook name="a&amp;&quot;b" showTabs="true"><project id="p"/><tags/></workbook>"#
        );
        assert_eq!(
            el.json(),
            serde_json::json!({"name": "a&\"b", "showTabs": true, "project": {"id": "p"}, "tags": {}})
        );
    }

    #[test]
    fn lists_have_string_pagination_and_empty_shapes() {
        let page = Page { number: 2, size: 5 };
        let body = list_body(Format::Json, page, 7, "views", vec![Element::new("view")]);
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            v["pagination"],
            serde_json::json!({"pageNumber": "2", "pageSize": "5", "totalAvailable": "7"})
        );
        assert_eq!(v["views"]["view"].as_array().map(Vec::len), Some(1));
        let empty = list_body(Format::Json, page, 7, "views", Vec::new());
        let v: Value = serde_json::from_str(&empty).expect("json");
        assert_eq!(v["views"], serde_json::json!({}));
        let xml = list_body(Format::Xml, page, 7, "views", Vec::new());
        assert!(xml.contains(
            r#"<pagination pageNumber="2" pageSize="5" totalAvailable="7"/><views/></tsResponse>"#
        ));
    }
}
