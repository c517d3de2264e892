//! The attributes of a profile and their types, as segments see them.

use std::fmt;

/// The type of a profile attribute, which decides the operators a condition may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    Text,
    Integer,
    Number,
    /// A calendar date without a time.
    Date,
    /// An instant.
    Timestamp,
    Boolean,
    /// Anything else (lists, structs, binary): only `is_null` / `is_not_null` apply.
    Other,
}

impl AttributeType {
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Number)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, Self::Date | Self::Timestamp)
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Date => "date",
            Self::Timestamp => "timestamp",
            Self::Boolean => "boolean",
            Self::Other => "other",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeType,
}

/// The attributes of the profiles a segment is evaluated over, and the related tables whose
/// rows a segment may count and measure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileSchema {
    attributes: Vec<Attribute>,
    related: Vec<RelatedSchema>,
}

/// A table of rows that belong to profiles (orders, events, email opens), as segments see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedSchema {
    /// The name segments use for it, from the configuration.
    pub name: String,
    /// Its columns, which the rules inside `has` and `measure` test.
    pub columns: ProfileSchema,
    /// The column that dates each row, which windows (`within_last`, `between`, …) test.
    pub dated_by: Option<String>,
}

impl ProfileSchema {
    pub fn new(attributes: Vec<Attribute>) -> Self {
        Self {
            attributes,
            related: Vec::new(),
        }
    }

    /// The same attributes, with these related tables.
    pub fn with_related(self, related: Vec<RelatedSchema>) -> Self {
        Self { related, ..self }
    }

    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
    }

    /// The attribute whose name is closest to `name`, to suggest when `name` is unknown.
    pub fn nearest(&self, name: &str) -> Option<&str> {
        nearest_name(name, self.attributes.iter().map(|a| a.name.as_str()))
    }

    pub fn related_tables(&self) -> &[RelatedSchema] {
        &self.related
    }

    pub fn related(&self, name: &str) -> Option<&RelatedSchema> {
        self.related.iter().find(|table| table.name == name)
    }

    /// The related table whose name is closest to `name`.
    pub fn nearest_related(&self, name: &str) -> Option<&str> {
        nearest_name(name, self.related.iter().map(|table| table.name.as_str()))
    }
}

/// The name among `names` closest to `name`, if any is close enough to be a likely typo.
fn nearest_name<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = name.to_lowercase();
    names
        .map(|candidate| {
            let score = strsim::jaro_winkler(&lowered, &candidate.to_lowercase());
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_attribute() {
        let schema = ProfileSchema::new(vec![
            Attribute {
                name: "country".into(),
                kind: AttributeType::Text,
            },
            Attribute {
                name: "loyalty_tier".into(),
                kind: AttributeType::Text,
            },
        ]);
        assert_eq!(schema.nearest("contry"), Some("country"));
        assert_eq!(schema.nearest("Loyalty_Teir"), Some("loyalty_tier"));
        assert_eq!(schema.nearest("zzz"), None);
    }
}
