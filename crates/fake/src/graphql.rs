//! A small GraphQL executor for the fake Metadata API: the query is parsed with
//! `graphql-parser`, variables are coerced, fragments (named and inline) and `@skip` /
//! `@include` are honoured, and only the selected fields (under their aliases) are answered.
//! The schema is whatever [`GqlObject`]s the caller hands in (`metadata.rs`).
//!
//! Errors come in two kinds, as graphql-java (Tableau's GraphQL server) sorts them: syntax and
//! validation errors (`extensions.classification`), and Tableau's own errors with
//! `extensions.code` (`INVALID_ARGUMENT`, `FILTER_REQUIRED`, ...). Either stops the query: as
//! Tableau documents, "the query results return an error name and description instead of
//! query results", so `data` is null.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use graphql_parser::query::{
    parse_query, Definition, Directive, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet, Type, TypeCondition, Value as GqlValue,
};
use serde_json::{json, Map, Value};

/// One error of the `errors` list.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GqlError {
    pub message: String,
    /// `extensions` of the error.
    pub extensions: Value,
}

impl GqlError {
    /// A Tableau error: `extensions: {"severity": "ERROR", "code": ..., "properties": null}`.
    /// The code names are [doc] (Metadata API "Common Errors"); `severity` and `properties`
    /// beside `code` are a [guess] of the exact shape.
    pub fn tableau(code: &str, message: impl Into<String>) -> Self {
        GqlError {
            message: message.into(),
            extensions: json!({"severity": "ERROR", "code": code, "properties": null}),
        }
    }

    /// `INVALID_ARGUMENT` [doc].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::tableau("INVALID_ARGUMENT", message)
    }

    /// A graphql-java validation error (unknown field, missing sub-selection...).
    pub fn validation(message: impl Into<String>) -> Self {
        GqlError {
            message: message.into(),
            extensions: json!({"classification": "ValidationError"}),
        }
    }

    fn syntax(message: impl Into<String>) -> Self {
        GqlError {
            message: message.into(),
            extensions: json!({"classification": "InvalidSyntax"}),
        }
    }

    /// The error as a JSON object of the `errors` list.
    pub fn to_json(&self) -> Value {
        json!({"message": self.message, "extensions": self.extensions})
    }

    /// `extensions.code` when it has one, else the classification.
    pub fn key(&self) -> String {
        self.extensions
            .get("code")
            .or_else(|| self.extensions.get("classification"))
            .and_then(Value::as_str)
            .unwrap_or("GraphQLError")
            .to_string()
    }
}

/// A field's arguments, variables substituted, as JSON (enum values become strings).
pub(crate) type Args = BTreeMap<String, Value>;

/// What a field resolved to.
pub(crate) enum Resolved {
    /// A scalar (or null); no sub-selection allowed.
    Leaf(Value),
    /// An object; a sub-selection is required.
    Object(Rc<dyn GqlObject>),
    /// A list of objects; a sub-selection is required.
    List(Vec<Rc<dyn GqlObject>>),
}

/// An object type of the schema.
pub(crate) trait GqlObject {
    /// The GraphQL type name (for `__typename` and fragment type conditions).
    fn type_name(&self) -> &'static str;
    /// Resolves `field` with `args`; `Ok(None)` when the type has no such field.
    fn resolve(&self, field: &str, args: &Args) -> Result<Option<Resolved>, GqlError>;
}

/// A request: the query text, its variables and the operation to run.
pub(crate) struct Request<'a> {
    pub query: &'a str,
    pub variables: &'a Map<String, Value>,
    pub operation_name: Option<&'a str>,
}

/// Runs `request` against `root`: the `data` object, or the errors.
pub(crate) fn execute(request: &Request<'_>, root: Rc<dyn GqlObject>) -> Result<Value, GqlError> {
    let doc = parse_query::<String>(request.query)
        .map_err(|e| GqlError::syntax(format!("Invalid Syntax : {e}")))?;
    let mut fragments = HashMap::new();
    let mut operations = Vec::new();
    for def in &doc.definitions {
        match def {
            Definition::Fragment(f) => {
                fragments.insert(f.name.clone(), f);
            }
            Definition::Operation(op) => operations.push(op),
        }
    }
    let op = pick_operation(&operations, request.operation_name)?;
    let (definitions, selection_set) = match op {
        OperationDefinition::SelectionSet(set) => (&[][..], set),
        OperationDefinition::Query(q) => (&q.variable_definitions[..], &q.selection_set),
        OperationDefinition::Mutation(_) => {
            return Err(GqlError::validation(
                "Schema is not configured for mutations.",
            ))
        }
        OperationDefinition::Subscription(_) => {
            return Err(GqlError::validation(
                "Schema is not configured for subscriptions.",
            ))
        }
    };
    let mut variables = HashMap::new();
    for def in definitions {
        let given = request.variables.get(&def.name).cloned();
        let value = match (given, &def.default_value) {
            (Some(v), _) => v,
            (None, Some(default)) => to_json(default, &HashMap::new())?,
            (None, None) => Value::Null,
        };
        if value.is_null() && matches!(def.var_type, Type::NonNullType(_)) {
            return Err(GqlError::validation(format!(
                "Variable '{}' has an invalid value: Variable '{}' has coerced Null value for NonNull type '{}'",
                def.name, def.name, def.var_type
            )));
        }
        check_variable_type(&def.name, &def.var_type, &value)?;
        variables.insert(def.name.clone(), value);
    }
    let ctx = Ctx {
        variables: &variables,
        fragments: &fragments,
    };
    Ok(Value::Object(ctx.select(selection_set, root.as_ref())?))
}

fn pick_operation<'d, 'a>(
    operations: &[&'d OperationDefinition<'a, String>],
    name: Option<&str>,
) -> Result<&'d OperationDefinition<'a, String>, GqlError> {
    let op_name = |op: &OperationDefinition<'a, String>| match op {
        OperationDefinition::Query(q) => q.name.clone(),
        OperationDefinition::Mutation(m) => m.name.clone(),
        OperationDefinition::Subscription(s) => s.name.clone(),
        OperationDefinition::SelectionSet(_) => None,
    };
    match name {
        Some(wanted) => operations
            .iter()
            .find(|op| op_name(op).as_deref() == Some(wanted))
            .copied()
            .ok_or_else(|| GqlError::validation(format!("Unknown operation named '{wanted}'."))),
        None => match operations {
            [one] => Ok(*one),
            [] => Err(GqlError::validation("The document holds no operation.")),
            _ => Err(GqlError::validation(
                "Must provide operation name if query contains multiple operations.",
            )),
        },
    }
}

/// A loose check of a variable's JSON value against its declared type (named scalars only).
fn check_variable_type(name: &str, ty: &Type<'_, String>, value: &Value) -> Result<(), GqlError> {
    let ok = match (ty, value) {
        (_, Value::Null) => true,
        (Type::NonNullType(inner), v) => return check_variable_type(name, inner, v),
        (Type::ListType(inner), Value::Array(items)) => {
            return items
                .iter()
                .try_for_each(|v| check_variable_type(name, inner, v))
        }
        (Type::ListType(_), _) => false,
        (Type::NamedType(t), v) => match t.as_str() {
            "Int" => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            "Float" => v.is_number(),
            "String" | "ID" => v.is_string(),
            "Boolean" => v.is_boolean(),
            _ => true, // input objects and enums: checked where they are used
        },
    };
    if ok {
        Ok(())
    } else {
        Err(GqlError::validation(format!(
            "Variable '{name}' has an invalid value: {value} is not a valid '{ty}'"
        )))
    }
}

/// A literal (or variable) argument value as JSON.
fn to_json(
    value: &GqlValue<'_, String>,
    variables: &HashMap<String, Value>,
) -> Result<Value, GqlError> {
    Ok(match value {
        GqlValue::Variable(name) => variables
            .get(name)
            .cloned()
            .ok_or_else(|| GqlError::validation(format!("Variable '{name}' is not defined.")))?,
        GqlValue::Int(n) => n.as_i64().map(Value::from).unwrap_or(Value::Null),
        GqlValue::Float(f) => json!(f),
        GqlValue::String(s) => json!(s),
        GqlValue::Boolean(b) => json!(b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => json!(e),
        GqlValue::List(items) => Value::Array(
            items
                .iter()
                .map(|v| to_json(v, variables))
                .collect::<Result<_, _>>()?,
        ),
        GqlValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v, variables)?)))
                .collect::<Result<_, GqlError>>()?,
        ),
    })
}

struct Ctx<'q, 'a> {
    variables: &'q HashMap<String, Value>,
    fragments: &'q HashMap<String, &'q FragmentDefinition<'a, String>>,
}

impl Ctx<'_, '_> {
    /// `@skip(if:)` / `@include(if:)`: should the selection be left out?
    fn skipped(&self, directives: &[Directive<'_, String>]) -> Result<bool, GqlError> {
        for d in directives {
            let cond = d
                .arguments
                .iter()
                .find(|(k, _)| k == "if")
                .map(|(_, v)| to_json(v, self.variables))
                .transpose()?
                .and_then(|v| v.as_bool());
            match (d.name.as_str(), cond) {
                ("skip", Some(true)) | ("include", Some(false)) => return Ok(true),
                ("skip" | "include", Some(_)) => {}
                ("skip" | "include", None) => {
                    return Err(GqlError::validation(format!(
                        "Directive '{}' needs a Boolean argument 'if'.",
                        d.name
                    )))
                }
                (other, _) => {
                    return Err(GqlError::validation(format!(
                        "Unknown directive '{other}'."
                    )))
                }
            }
        }
        Ok(false)
    }

    fn select(
        &self,
        set: &SelectionSet<'_, String>,
        obj: &dyn GqlObject,
    ) -> Result<Map<String, Value>, GqlError> {
        let mut out = Map::new();
        for item in &set.items {
            match item {
                Selection::Field(field) => {
                    if self.skipped(&field.directives)? {
                        continue;
                    }
                    let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                    let value = if field.name == "__typename" {
                        json!(obj.type_name())
                    } else {
                        let args = field
                            .arguments
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), to_json(v, self.variables)?)))
                            .collect::<Result<Args, GqlError>>()?;
                        let resolved = obj.resolve(&field.name, &args)?.ok_or_else(|| {
                            GqlError::validation(format!(
                                "Validation error (FieldUndefined@[{}]) : Field '{}' in type '{}' is undefined",
                                field.name,
                                field.name,
                                obj.type_name()
                            ))
                        })?;
                        self.complete(resolved, &field.selection_set, &field.name)?
                    };
                    merge(&mut out, key, value);
                }
                Selection::FragmentSpread(spread) => {
                    if self.skipped(&spread.directives)? {
                        continue;
                    }
                    let frag = self.fragments.get(&spread.fragment_name).ok_or_else(|| {
                        GqlError::invalid_argument(format!(
                            "The query contains an undefined fragment '{}'. Make sure to define the fragment.",
                            spread.fragment_name
                        ))
                    })?;
                    let TypeCondition::On(on) = &frag.type_condition;
                    if on == obj.type_name() {
                        for (k, v) in self.select(&frag.selection_set, obj)? {
                            merge(&mut out, k, v);
                        }
                    }
                }
                Selection::InlineFragment(inline) => {
                    if self.skipped(&inline.directives)? {
                        continue;
                    }
                    let applies = match &inline.type_condition {
                        None => true,
                        Some(TypeCondition::On(on)) => on == obj.type_name(),
                    };
                    if applies {
                        for (k, v) in self.select(&inline.selection_set, obj)? {
                            merge(&mut out, k, v);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn complete(
        &self,
        resolved: Resolved,
        set: &SelectionSet<'_, String>,
        field: &str,
    ) -> Result<Value, GqlError> {
        let needs_selection = |type_name: &str| {
            GqlError::validation(format!(
                "Validation error (SubselectionRequired@[{field}]) : Subselection required for type '{type_name}' of field '{field}'"
            ))
        };
        match resolved {
            Resolved::Leaf(v) => {
                if set.items.is_empty() {
                    Ok(v)
                } else {
                    Err(GqlError::validation(format!(
                        "Validation error (SubselectionNotAllowed@[{field}]) : Sub selection not allowed on leaf type of field '{field}'"
                    )))
                }
            }
            Resolved::Object(o) => {
                if set.items.is_empty() {
                    return Err(needs_selection(o.type_name()));
                }
                Ok(Value::Object(self.select(set, o.as_ref())?))
            }
            Resolved::List(items) => {
                if set.items.is_empty() {
                    let name = items.first().map(|o| o.type_name()).unwrap_or("object");
                    return Err(needs_selection(name));
                }
                Ok(Value::Array(
                    items
                        .iter()
                        .map(|o| self.select(set, o.as_ref()).map(Value::Object))
                        .collect::<Result<_, _>>()?,
                ))
            }
        }
    }
}

/// Puts `value` under `key`, merging objects selected twice (`a { x } a { y }`).
fn merge(out: &mut Map<String, Value>, key: String, value: Value) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                merge(existing, k, v);
            }
        }
        (Some(Value::Array(existing)), Value::Array(new)) if existing.len() == new.len() => {
            for (e, n) in existing.iter_mut().zip(new) {
                if let (Value::Object(e), Value::Object(n)) = (e, n) {
                    for (k, v) in n {
                        merge(e, k, v);
                    }
                }
            }
        }
        (_, value) => {
            out.insert(key, value);
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    struct Leafy;
    impl GqlObject for Leafy {
        fn type_name(&self) -> &'static str {
            "Leafy"
        }
        fn resolve(&self, field: &str, args: &Args) -> Result<Option<Resolved>, GqlError> {
            Ok(match field {
                "echo" => Some(Resolved::Leaf(
                    args.get("v").cloned().unwrap_or(Value::Null),
                )),
                "me" => Some(Resolved::Object(Rc::new(Leafy))),
                _ => None,
            })
        }
    }

    fn run(query: &str, vars: Value) -> Result<Value, GqlError> {
        let vars = vars.as_object().cloned().unwrap_or_default();
        execute(
            &Request {
                query,
                variables: &vars,
                operation_name: None,
            },
            Rc::new(Leafy),
        )
    }

    #[test]
    fn aliases_variables_fragments_directives() {
        let data = run(
            r#"query Q($x: Int = 3, $no: Boolean!) { a: echo(v: $x) b: echo(v: {k: [1, "s", ENUMV]})
                 me { __typename ...F } skipped: echo(v: 1) @include(if: $no) }
               fragment F on Leafy { echo(v: "f") }"#,
            json!({"no": false}),
        )
        .expect("runs");
        assert_eq!(
            data,
            json!({"a": 3, "b": {"k": [1, "s", "ENUMV"]}, "me": {"__typename": "Leafy", "echo": "f"}})
        );
    }

    #[test]
    fn errors() {
        let err = run("{ nope }", json!({})).unwrap_err();
        assert!(err
            .message
            .contains("Field 'nope' in type 'Leafy' is undefined"));
        assert_eq!(err.key(), "ValidationError");
        assert_eq!(
            run("{ echo(", json!({})).unwrap_err().key(),
            "InvalidSyntax"
        );
        assert_eq!(
            run("{ me }", json!({})).unwrap_err().key(),
            "ValidationError"
        );
        assert_eq!(
            run("{ echo { x } }", json!({})).unwrap_err().key(),
            "ValidationError"
        );
        assert_eq!(
            run("{ me { ...Missing } }", json!({})).unwrap_err().key(),
            "INVALID_ARGUMENT"
        );
        assert_eq!(
            run("query ($n: Int!) { echo(v: $n) }", json!({}))
                .unwrap_err()
                .key(),
            "ValidationError"
        );
        assert_eq!(
            run("query ($n: Int) { echo(v: $n) }", json!({"n": "x"}))
                .unwrap_err()
                .key(),
            "ValidationError"
        );
        assert_eq!(
            run("{ echo(v: $undeclared) }", json!({}))
                .unwrap_err()
                .key(),
            "ValidationError"
        );
        assert_eq!(
            run("mutation { echo }", json!({})).unwrap_err().key(),
            "ValidationError"
        );
        assert_eq!(
            run("query A { echo } query B { echo }", json!({}))
                .unwrap_err()
                .key(),
            "ValidationError"
        );
    }
}
