//! Kubernetes naming rules: DNS labels, label keys and values.
//!
//! Schema validation (`kubernetes-validate`) does not check these, the API server does; so
//! kubectl-flink checks them itself, before anything is written.

use crate::error::Diagnostic;

/// Labels kubectl-flink sets itself; users may not override them.
pub const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
];

/// Longest DNS label, and longest label value.
pub const MAX_LABEL: usize = 63;

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (RFC 1035; Service names).
pub fn check_dns1035_label(name: &str) -> Result<(), Diagnostic> {
    check_dns_label(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Diagnostic::new(format!("`{name}` must start with a lowercase letter")));
    }
    Ok(())
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (RFC 1123; namespaces).
pub fn check_dns_label(name: &str) -> Result<(), Diagnostic> {
    if name.is_empty() {
        return Err(Diagnostic::new("must not be empty"));
    }
    if name.len() > MAX_LABEL {
        return Err(Diagnostic::new(format!(
            "`{name}` is {} characters, over the limit of {MAX_LABEL}",
            name.len()
        )));
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(Diagnostic::new(format!(
            "`{name}` may only hold lowercase letters, digits and `-`"
        )));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(Diagnostic::new(format!("`{name}` must start and end with a letter or digit")));
    }
    Ok(())
}

/// A DNS subdomain: dot-separated RFC 1123 labels, at most 253 characters.
pub fn check_dns_subdomain(name: &str) -> Result<(), Diagnostic> {
    if name.len() > 253 {
        return Err(Diagnostic::new(format!("`{name}` is over the limit of 253 characters")));
    }
    name.split('.')
        .try_for_each(check_dns_label)
        .map_err(|e| Diagnostic::new(format!("`{name}`: {}", e.message)))
}

fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
pub fn check_label_key(key: &str) -> Result<(), Diagnostic> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_dns_subdomain(prefix)
            .map_err(|e| Diagnostic::new(format!("label key prefix {}", e.message)))?;
    }
    if !is_label_name(name) {
        return Err(Diagnostic::new(format!(
            "label key `{key}` must be at most 63 characters of letters, digits, `-`, `_`, `.`, \
             starting and ending with a letter or digit, after an optional `prefix/`"
        )));
    }
    Ok(())
}

/// A label value: empty, or at most 63 characters of letters, digits, `-`, `_`, `.`,
/// starting and ending with a letter or digit.
pub fn check_label_value(value: &str) -> Result<(), Diagnostic> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err(Diagnostic::new(format!(
            "label value `{value}` must be at most 63 characters of letters, digits, `-`, `_`, \
             `.`, starting and ending with a letter or digit"
        )))
    }
}

/// Checks `--owner-uid`: a Kubernetes uid is an RFC 4122 UUID, lowercase.
pub fn parse_uid(text: &str) -> Result<String, Diagnostic> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = groups.iter().map(|g| g.len()).collect::<Vec<_>>();
    let hex =
        groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if lengths == [8, 4, 4, 4, 12] && hex {
        Ok(text.to_owned())
    } else {
        Err(Diagnostic::new(format!(
            "`{text}` is not a Kubernetes uid (a lowercase UUID such as 3f0c1c64-1b8e-4a6f-9a53-1f5b8e9d2c7a)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(check_dns1035_label("wordcount").is_ok());
        assert!(check_dns1035_label("a-1").is_ok());
        for bad in ["", "1abc", "Abc", "a_b", "a-", "-a", "a.b", &"a".repeat(64)] {
            assert!(check_dns1035_label(bad).is_err(), "{bad}");
        }
        assert!(check_dns_label("1abc").is_ok());
    }

    #[test]
    fn label_keys_and_values() {
        assert!(check_label_key("team").is_ok());
        assert!(check_label_key("example.com/team").is_ok());
        assert!(check_label_key("Example.com/team").is_err());
        assert!(check_label_key("a/b/c").is_err());
        assert!(check_label_key("").is_err());
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("data_1.x").is_ok());
        assert!(check_label_value("has space").is_err());
        assert!(check_label_value(&"x".repeat(64)).is_err());
    }
}
