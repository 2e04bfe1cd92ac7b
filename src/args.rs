//! Reading Python arguments into core types, with `ConfigurationError`s that say what to pass
//! (instead of pyo3's generic `TypeError`s).

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use super::errors::{config_error, IntoPy};
use tca_core::config::Seconds;

/// A `str` argument.
pub fn string(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    match obj.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(config_error(format!(
            "{name} must be a string, not {}",
            type_name(obj)
        ))),
    }
}

/// An optional `str` argument (`None` allowed).
pub fn optional_string(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<String>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => string(o, name).map(Some),
    }
}

/// A list (or tuple) of strings; a bare string is refused (it would be read letter by letter).
pub fn string_list(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() {
        return Err(config_error(format!(
            "{name} must be a list of strings, e.g. [{:?}], not a single string",
            obj.extract::<String>().unwrap_or_default()
        )));
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(config_error(format!(
            "{name} must be a list of strings, not {}",
            type_name(obj)
        )));
    };
    items
        .iter()
        .map(|item| {
            string(item, name).map_err(|_| {
                config_error(format!(
                    "{name} must hold only strings; found {}",
                    type_name(item)
                ))
            })
        })
        .collect()
}

/// A number of seconds (int or float, not bool).
pub fn seconds(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    let is_number = (obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>())
        && !obj.is_instance_of::<PyBool>();
    if !is_number {
        return Err(config_error(format!(
            "{name} must be a number of seconds, not {}",
            type_name(obj)
        )));
    }
    obj.extract::<f64>()
}

/// A JWT lifetime in seconds.
pub fn lifetime(obj: &Bound<'_, PyAny>) -> PyResult<Duration> {
    Seconds::JWT_LIFETIME
        .check(seconds(obj, "lifetime")?)
        .py_err()
}

/// `{"Region": "East", "Teams": ["a", "b"]}`.
pub fn user_attributes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Map<String, Value>> {
    let mut out = Map::new();
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(out);
    };
    let dict = obj.cast::<PyDict>().map_err(|_| {
        config_error(format!(
            "user_attributes must be a dict of str to str or list of str, not {}",
            type_name(obj)
        ))
    })?;
    for (k, v) in dict.iter() {
        let key = string(&k, "user_attributes key")?;
        let field = format!("user_attributes[{key:?}]");
        let value = if v.is_instance_of::<PyString>() {
            Value::String(string(&v, "user_attributes value")?)
        } else if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
            Value::Array(
                string_list(&v, &field)?
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            )
        } else {
            return Err(config_error(format!(
                "{field} must be a string or a list of strings, not {} (write numbers as strings, e.g. \"3\")",
                type_name(&v)
            )));
        };
        out.insert(key, value);
    }
    Ok(out)
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an unknown type".into())
}

/// A Python value as JSON text, through `json.dumps` (so `json=` and the JSON arguments of
/// the APIs after sign-in accept the same values).
pub fn json_text(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
    py.import("json")?
        .call_method1("dumps", (value,))?
        .extract()
}

/// A Python value as a JSON value (through [`json_text`]).
pub fn json_value(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    serde_json::from_str(&json_text(py, value)?)
        .map_err(|_| config_error("the value is not JSON: NaN and infinite numbers cannot be sent"))
}
