//! Masked addresses for samples: enough to recognise a member (`a••@example.com`), not enough
//! to read the address.

/// `ada@example.com` → `a••@example.com`; a value that is not an address keeps its first
/// character only (`x••`).
pub fn masked(value: &str) -> String {
    let value = value.trim();
    let (local, domain) = match value.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (value, None),
    };
    let mut out: String = local.chars().take(1).collect();
    out.push_str("••");
    if let Some(domain) = domain {
        out.push('@');
        out.push_str(domain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn addresses_keep_their_first_letter_and_domain_and_other_values_their_first_letter() {
        assert_eq!(masked("ada@example.com"), "a••@example.com");
        assert_eq!(masked(" Émile.Zola@exemple.fr "), "É••@exemple.fr");
        assert_eq!(masked("not-an-address"), "n••");
        assert_eq!(masked(""), "••");
        assert_eq!(masked("a@b@c.org"), "a••@c.org");
    }
}
