//! One page of a REST list answer: its items and its `pagination`, from XML or JSON.
//!
//! XML: `<tsResponse><pagination pageNumber="1" pageSize="100" totalAvailable="158"/>
//! <workbooks><workbook id="…" name="…"><project id="…"/></workbook>…</workbooks></tsResponse>`.
//! Each item becomes a JSON object: its attributes as strings, each child element under its
//! name (an object, or a list when the name repeats), the text of a text-only element as a
//! string. JSON: `{"pagination": {"pageNumber": "1", …}, "workbooks": {"workbook": [...]}}`,
//! numbers in `pagination` as strings (as Tableau sends them) or numbers.

use quick_xml::events::BytesStart;
use quick_xml::XmlVersion;
use serde_json::{Map, Value};

use super::error::{Fail, WireError, MALFORMED_XML};
use super::sniff::{sniff, Sniffed};
use super::xml::{walk_xml, XmlStep};

/// What a page says about the whole list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pagination {
    pub page_number: u64,
    pub page_size: u64,
    pub total_available: u64,
}

/// A page of a list answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub items: Vec<Value>,
    /// `None` when the answer has no `pagination` (a list Tableau does not page).
    pub pagination: Option<Pagination>,
}

/// Read a REST list answer (XML or JSON, sniffed).
pub fn parse_page(body: &[u8]) -> Result<Page, WireError> {
    let read = match sniff(body) {
        Sniffed::Xml(doc) => page_from_xml(doc),
        Sniffed::Json(doc) => serde_json::from_slice(doc)
            .map_err(|_| Fail::NotTableau(WireError::MALFORMED_JSON))
            .and_then(|value: Value| page_from_json(&value)),
        Sniffed::Other(what) => Err(Fail::not_xml_or_json(what)),
    };
    read.map_err(|fail| fail.into_wire(body))
}

/// A `pagination` number: a string of digits (Tableau's JSON) or a number.
fn number(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn pagination_of(v: &Value) -> Result<Pagination, Fail> {
    let read = |name| number(v.get(name));
    match (read("pageNumber"), read("pageSize"), read("totalAvailable")) {
        (Some(page_number), Some(page_size), Some(total_available)) => Ok(Pagination {
            page_number,
            page_size,
            total_available,
        }),
        _ => Err(Fail::Missing(
            "pagination's pageNumber, pageSize and totalAvailable (as numbers)",
        )),
    }
}

const NO_LIST: Fail = Fail::Missing("a list of items (one member beside pagination)");

fn page_from_json(doc: &Value) -> Result<Page, Fail> {
    let Value::Object(top) = doc else {
        return Err(NO_LIST);
    };
    let pagination = top.get("pagination").map(pagination_of).transpose()?;
    // The list: the one other member, `{"workbooks": {"workbook": [...]}}`.
    let mut lists = top.iter().filter(|(k, _)| k.as_str() != "pagination");
    let items = match (lists.next(), lists.next()) {
        (Some((_, Value::Object(holder))), None) => match holder.values().next() {
            Some(Value::Array(items)) => items.clone(),
            Some(item @ Value::Object(_)) => vec![item.clone()],
            None => Vec::new(),
            Some(_) => return Err(NO_LIST),
        },
        (None, None) => Vec::new(),
        _ => return Err(NO_LIST),
    };
    Ok(Page { items, pagination })
}

/// An element being read: its object so far.
struct Open {
    name: String,
    fields: Map<String, Value>,
    text: String,
}

/// With the streaming walker every XML answer is read with (`xml.rs`): `at.len()` is the
/// depth, 1 for `tsResponse`, 2 for `pagination` and the list, 3+ in an item.
fn page_from_xml(doc: &[u8]) -> Result<Page, Fail> {
    let mut pagination = None;
    let mut list_seen = false;
    let mut in_list = false;
    let mut items = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open(at, start) => {
                let name = start.local_name();
                let name: &str = name.as_ref();
                match at.len() {
                    2 if name == "pagination" => {
                        pagination = Some(pagination_of(&Value::Object(attributes(start)?))?);
                    }
                    2 if name == "error" => return Err(NO_LIST),
                    2 if !list_seen => (list_seen, in_list) = (true, true),
                    n if n >= 3 && in_list => stack.push(Open {
                        name: name.to_string(),
                        fields: attributes(start)?,
                        text: String::new(),
                    }),
                    _ => {}
                }
            }
            XmlStep::Text(_, text) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(text);
                }
            }
            XmlStep::Close(at) => match at.len() {
                n if n >= 3 && in_list => close(&mut stack, &mut items),
                2 => in_list = false,
                _ => {}
            },
        }
        Ok(false)
    })?;
    Ok(Page { items, pagination })
}

/// An element ends: it becomes a value in its parent (a list when its name repeats), or an
/// item when it has no parent.
fn close(stack: &mut Vec<Open>, items: &mut Vec<Value>) {
    let Some(done) = stack.pop() else { return };
    let text = done.text.trim();
    let value = if done.fields.is_empty() && !text.is_empty() {
        Value::String(text.to_string())
    } else {
        Value::Object(done.fields)
    };
    match stack.last_mut() {
        None => items.push(value),
        Some(parent) => match parent.fields.get_mut(&done.name) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                parent.fields.insert(done.name, value);
            }
        },
    }
}

/// Every attribute of an element (namespace declarations aside), unescaped and normalized.
fn attributes(e: &BytesStart<'_>) -> Result<Map<String, Value>, Fail> {
    let mut fields = Map::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|_| MALFORMED_XML)?;
        let prefix_or_name = attr.key.prefix().map_or_else(
            || attr.key.local_name().as_ref().to_string(),
            |p| p.as_ref().to_string(),
        );
        if prefix_or_name == "xmlns" {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| MALFORMED_XML)?;
        let key = attr.key.local_name();
        let key: &str = key.as_ref();
        fields.insert(key.to_string(), Value::String(value.into_owned()));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_items_become_objects() {
        let body = br#"<?xml version='1.0' encoding='UTF-8'?>
<tsResponse xmlns="http://tableau.com/api" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <pagination pageNumber="2" pageSize="2" totalAvailable="5"/>
  <workbooks>
    <workbook id="w1" name="A &amp; B"><project id="p1" name="Default"/><tags><tag label="x"/><tag label="y"/></tags><description>hi</description></workbook>
    <workbook id="w2" name="C"/>
  </workbooks>
</tsResponse>"#;
        let page = parse_page(body).unwrap();
        assert_eq!(
            page.pagination,
            Some(Pagination {
                page_number: 2,
                page_size: 2,
                total_available: 5
            })
        );
        assert_eq!(page.items.len(), 2);
        let w1 = &page.items[0];
        assert_eq!(w1["name"], "A & B");
        assert_eq!(w1["project"]["id"], "p1");
        assert_eq!(w1["tags"]["tag"][1]["label"], "y");
        assert_eq!(w1["description"], "hi");
        assert_eq!(page.items[1]["id"], "w2");
    }

    #[test]
    fn json_pagination_numbers_are_strings() {
        let body = br#"{"pagination":{"pageNumber":"1","pageSize":"100","totalAvailable":"158"},
            "workbooks":{"workbook":[{"id":"w1"},{"id":"w2"}]}}"#;
        let page = parse_page(body).unwrap();
        assert_eq!(page.pagination.unwrap().total_available, 158);
        assert_eq!(page.items.len(), 2);
        let empty = parse_page(br#"{"pagination":{"pageNumber":"9","pageSize":"100","totalAvailable":"158"},"workbooks":{}}"#).unwrap();
        assert!(empty.items.is_empty());
    }

    #[test]
    fn empty_and_unpaged_lists() {
        let page = parse_page(b"<tsResponse><pagination pageNumber='1' pageSize='100' totalAvailable='0'/><users/></tsResponse>").unwrap();
        assert!(page.items.is_empty());
        let page = parse_page(b"<tsResponse><sites><site id='s1'/></sites></tsResponse>").unwrap();
        assert_eq!((page.items.len(), page.pagination), (1, None));
    }

    #[test]
    fn bad_answers_are_refused() {
        assert!(parse_page(b"<html><body>login</body></html>").is_err());
        assert!(parse_page(b"<tsResponse><workbooks><workbook id='x'>").is_err());
        assert!(parse_page(b"{\"pagination\":{\"pageNumber\":\"x\"},\"w\":{}}").is_err());
        assert!(parse_page(
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><tsResponse><l><i n='&a;'/></l></tsResponse>"
        )
        .is_err());
    }
}
