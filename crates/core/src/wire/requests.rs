//! The request bodies of `POST auth/signin` and `POST auth/switchSite`, in XML or JSON.

use serde_json::{Map, Value};

use super::format::WireFormat;

/// The secret that proves who signs in.
#[derive(Clone, Copy, Debug)]
pub enum SignInCredentials<'a> {
    /// A JWT: connected app (direct trust), OAuth/EAS, or a unified access token (`is_uat`).
    Jwt {
        /// The signed JWT, sent as is.
        jwt: &'a str,
        /// Whether the JWT is a Tableau Cloud unified access token (`isUat="true"`).
        is_uat: bool,
    },
    /// A personal access token.
    PersonalAccessToken {
        /// The token name.
        name: &'a str,
        /// The token secret.
        secret: &'a str,
    },
    /// A username and password.
    Password {
        /// The username.
        username: &'a str,
        /// The password.
        password: &'a str,
    },
}

/// Everything `POST auth/signin` needs in its body.
#[derive(Clone, Copy, Debug)]
pub struct SignInRequest<'a> {
    /// Who signs in.
    pub credentials: SignInCredentials<'a>,
    /// The site's URL name (`contentUrl`); `""` is the Server default site.
    pub site_content_url: &'a str,
    /// The LUID of a user to impersonate (admins only): `<user id="…"/>` inside `<credentials>`.
    pub impersonate: Option<&'a str>,
}

/// The body of `POST auth/signin`.
///
/// XML: `<tsRequest><credentials jwt="…"><site contentUrl="…"/></credentials></tsRequest>`
/// (`isUat="true"` for a UAT, `personalAccessTokenName`/`personalAccessTokenSecret` for a PAT,
/// `name`/`password` for a password, `<user id="…"/>` after `<site>` to impersonate). Every
/// attribute value is escaped, including tab, CR and LF, which XML would otherwise turn into
/// spaces. JSON: `{"credentials":{"jwt":"…","site":{"contentUrl":"…"}}}`, `isUat` a boolean.
pub fn sign_in_body(req: &SignInRequest<'_>, format: WireFormat) -> String {
    match format {
        WireFormat::Xml => sign_in_xml(req),
        WireFormat::Json => sign_in_json(req),
    }
}

/// The body of `POST auth/switchSite`: `<tsRequest><site contentUrl="…"/></tsRequest>` or
/// `{"site":{"contentUrl":"…"}}`.
pub fn switch_site_body(content_url: &str, format: WireFormat) -> String {
    match format {
        WireFormat::Xml => {
            let mut out = String::with_capacity(48 + content_url.len());
            out.push_str("<tsRequest><site");
            push_xml_attr(&mut out, "contentUrl", content_url);
            out.push_str("/></tsRequest>");
            out
        }
        WireFormat::Json => {
            let mut root = Map::new();
            root.insert("site".to_owned(), site_json(content_url));
            Value::Object(root).to_string()
        }
    }
}

fn sign_in_xml(req: &SignInRequest<'_>) -> String {
    let mut out = String::with_capacity(160 + secret_len(req));
    out.push_str("<tsRequest><credentials");
    match req.credentials {
        SignInCredentials::Jwt { jwt, is_uat } => {
            push_xml_attr(&mut out, "jwt", jwt);
            if is_uat {
                out.push_str(" isUat=\"true\"");
            }
        }
        SignInCredentials::PersonalAccessToken { name, secret } => {
            push_xml_attr(&mut out, "personalAccessTokenName", name);
            push_xml_attr(&mut out, "personalAccessTokenSecret", secret);
        }
        SignInCredentials::Password { username, password } => {
            push_xml_attr(&mut out, "name", username);
            push_xml_attr(&mut out, "password", password);
        }
    }
    out.push_str("><site");
    push_xml_attr(&mut out, "contentUrl", req.site_content_url);
    out.push_str("/>");
    if let Some(user_id) = req.impersonate {
        out.push_str("<user");
        push_xml_attr(&mut out, "id", user_id);
        out.push_str("/>");
    }
    out.push_str("</credentials></tsRequest>");
    out
}

fn secret_len(req: &SignInRequest<'_>) -> usize {
    let creds = match req.credentials {
        SignInCredentials::Jwt { jwt, .. } => jwt.len(),
        SignInCredentials::PersonalAccessToken { name, secret } => name.len() + secret.len(),
        SignInCredentials::Password { username, password } => username.len() + password.len(),
    };
    creds + req.site_content_url.len() + req.impersonate.map_or(0, str::len)
}

fn sign_in_json(req: &SignInRequest<'_>) -> String {
    let mut creds = Map::new();
    let mut put = |key: &str, value: &str| {
        creds.insert(key.to_owned(), Value::String(value.to_owned()));
    };
    match req.credentials {
        SignInCredentials::Jwt { jwt, .. } => put("jwt", jwt),
        SignInCredentials::PersonalAccessToken { name, secret } => {
            put("personalAccessTokenName", name);
            put("personalAccessTokenSecret", secret);
        }
        SignInCredentials::Password { username, password } => {
            put("name", username);
            put("password", password);
        }
    }
    if let SignInCredentials::Jwt { is_uat: true, .. } = req.credentials {
        creds.insert("isUat".to_owned(), Value::Bool(true));
    }
    creds.insert("site".to_owned(), site_json(req.site_content_url));
    if let Some(user_id) = req.impersonate {
        let mut user = Map::new();
        user.insert("id".to_owned(), Value::String(user_id.to_owned()));
        creds.insert("user".to_owned(), Value::Object(user));
    }
    let mut root = Map::new();
    root.insert("credentials".to_owned(), Value::Object(creds));
    Value::Object(root).to_string()
}

fn site_json(content_url: &str) -> Value {
    let mut site = Map::new();
    site.insert(
        "contentUrl".to_owned(),
        Value::String(content_url.to_owned()),
    );
    Value::Object(site)
}

/// Appends ` name="value"` with the value escaped for a double-quoted XML attribute.
fn push_xml_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute-value normalization would turn these into spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            other => out.push(other),
        }
    }
    out.push('"');
}
