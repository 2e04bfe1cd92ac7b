//! `_core.hint_table()`: the core's hint rules as plain dicts, for the documentation's
//! troubleshooting page (`docs/hooks.py`).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use tca_core::error::hint_table as rules;

/// The rules that give an error its `hint`, in the order they are tried: dicts with `table`
/// ("subcode", "cloud_manager" or "tableau"), `code` (Tableau's code; "" for an answer without
/// one), `subcode`, `status` (each `None` when any matches), `calls` (the calls the rule is
/// for, by name) and `hint`.
#[pyfunction]
pub fn hint_table(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for (table, rule) in rules() {
        let d = PyDict::new(py);
        d.set_item("table", table.name())?;
        d.set_item("code", rule.code)?;
        d.set_item("subcode", rule.subcode)?;
        d.set_item("status", rule.status)?;
        d.set_item("calls", rule.calls.names())?;
        d.set_item("hint", rule.hint)?;
        list.append(d)?;
    }
    Ok(list)
}
