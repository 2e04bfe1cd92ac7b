//! The answer of `GET serverinfo`: the product version and the highest REST API version.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::answers::{non_empty, read};
use super::error::{Fail, WireError};
use super::json::{absent_if_bool_null_or_list, absent_if_number, from_json, Obj, Scalar};
use super::xml::{attrs, owned, walk_xml, Tag, XmlStep};

/// The answer of `GET serverinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// The product version text, e.g. `"2025.1.0"`, if given.
    pub product_version: Option<String>,
    /// The `build` attribute of the product version, if given.
    pub build: Option<String>,
    /// The highest REST API version the server speaks, e.g. `"3.25"` (required).
    pub rest_api_version: String,
}

/// Parses the answer of `GET serverinfo` (XML or JSON, sniffed).
///
/// XML: `tsResponse/serverInfo/productVersion` (text, `@build`) and `restApiVersion` (text).
/// JSON: `{"serverInfo":{"productVersion":{"value":…,"build":…},"restApiVersion":…}}`, where
/// `productVersion` may also be a plain string.
pub fn parse_server_info(body: &[u8]) -> Result<ServerInfo, WireError> {
    read(body, server_info_from_xml, server_info_from_json)
}

fn server_info_from_xml(doc: &[u8]) -> Result<ServerInfo, Fail> {
    use Tag::{ProductVersion as Pv, RestApiVersion as Rav, ServerInfo as Si, TsResponse as R};
    let mut done = false;
    let (mut product, mut build, mut rest) = (String::new(), None, String::new());
    walk_xml(doc, |step| {
        match step {
            XmlStep::Open([R, Si, Pv], start) => {
                let [b] = attrs(start, ["build"])?;
                build = owned(b).and_then(non_empty);
            }
            XmlStep::Text([R, Si, Pv], text) => product.push_str(text),
            XmlStep::Text([R, Si, Rav], text) => rest.push_str(text),
            XmlStep::Close([R, Si]) => done = true,
            _ => {}
        }
        Ok(done)
    })?;
    if !done {
        return Err(Fail::Missing("serverInfo"));
    }
    Ok(ServerInfo {
        product_version: non_empty(product),
        build,
        rest_api_version: non_empty(rest).ok_or(Fail::Missing("serverInfo/restApiVersion"))?,
    })
}

#[derive(Deserialize)]
struct ServerInfoJson<'a> {
    #[serde(borrow, default, rename = "serverInfo")]
    server_info: Obj<ServerInfoFieldsJson<'a>>,
}

#[derive(Deserialize)]
struct ServerInfoFieldsJson<'a> {
    #[serde(borrow, default, rename = "productVersion")]
    product_version: ProductVersionJson<'a>,
    #[serde(borrow, default, rename = "restApiVersion")]
    rest_api_version: Scalar<'a>,
}

/// `productVersion`: `{"value":…,"build":…}` or a plain string.
#[derive(Default)]
struct ProductVersionJson<'a> {
    value: Scalar<'a>,
    build: Scalar<'a>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ProductVersionJson<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Full<'a> {
            #[serde(borrow, default)]
            value: Scalar<'a>,
            #[serde(borrow, default)]
            build: Scalar<'a>,
        }
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ProductVersionJson<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let full = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ProductVersionJson {
                    value: full.value,
                    build: full.build,
                })
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ProductVersionJson {
                    value: Scalar(Some(Cow::Borrowed(v))),
                    build: Scalar(None),
                })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ProductVersionJson {
                    value: Scalar(Some(Cow::Owned(v.to_owned()))),
                    build: Scalar(None),
                })
            }
            absent_if_number!(ProductVersionJson::default());
            absent_if_bool_null_or_list!(ProductVersionJson::default());
        }
        deserializer.deserialize_any(V(PhantomData))
    }
}

fn server_info_from_json(doc: &[u8]) -> Result<ServerInfo, Fail> {
    let parsed: ServerInfoJson<'_> = from_json(doc, "serverInfo")?;
    let info = parsed.server_info.0.ok_or(Fail::Missing("serverInfo"))?;
    Ok(ServerInfo {
        product_version: info.product_version.value.into_string().and_then(non_empty),
        build: info.product_version.build.into_string().and_then(non_empty),
        rest_api_version: info
            .rest_api_version
            .into_string()
            .and_then(non_empty)
            .ok_or(Fail::Missing("serverInfo/restApiVersion"))?,
    })
}
