//! The body format of requests and answers.

/// The body format of a request (and the `Accept`ed answer format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WireFormat {
    /// `application/xml`, Tableau's default.
    #[default]
    Xml,
    /// `application/json`.
    Json,
}

impl WireFormat {
    /// The media type for the `Content-Type` and `Accept` headers.
    pub fn content_type(self) -> &'static str {
        match self {
            WireFormat::Xml => "application/xml",
            WireFormat::Json => "application/json",
        }
    }
}
