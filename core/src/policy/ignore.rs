//! Ignore rules: validation, expiry and matching against findings.
use super::IgnoreRule;
use super::date::Date;
use super::glob::PathGlob;
use super::purl_match::{self, Purl};
use crate::CoreError;
use crate::vuln::Finding;

/// More rules than anyone maintains by hand; the cap keeps `rules × findings` bounded.
pub const MAX_IGNORE_RULES: usize = 10_000;

/// A validated rule, its selectors compiled.
#[derive(Debug)]
pub struct CompiledRule<'a> {
    pub rule: &'a IgnoreRule,
    id: Option<&'a str>,
    package: Option<&'a str>,
    path: Option<PathGlob>,
    purl: Option<Purl>,
    /// The day after which the rule no longer applies.
    pub expires: Option<Date>,
}

/// Checks a rule the way [`super::apply`] will, so the host can report a bad rule
/// when it loads the file.
pub fn validate_ignore_rule(rule: &IgnoreRule) -> Result<(), CoreError> {
    CompiledRule::new(rule).map(|_| ())
}

fn invalid(rule: &IgnoreRule, reason: impl std::fmt::Display) -> CoreError {
    let origin = if rule.origin.trim().is_empty() {
        "ignore rule"
    } else {
        rule.origin.as_str()
    };
    CoreError::InvalidDocument {
        what: "ignore-rule",
        reason: super::printable(&format!("{origin}: {reason}")),
    }
}

/// A selector as given: absent, or non-empty after trimming (empty is an error,
/// because an empty selector would silently select nothing or everything).
fn selector<'a>(
    rule: &IgnoreRule,
    key: &str,
    value: &'a Option<String>,
) -> Result<Option<&'a str>, CoreError> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some("") => Err(invalid(rule, format!("`{key}` is empty"))),
        Some(v) => Ok(Some(v)),
    }
}

impl<'a> CompiledRule<'a> {
    pub fn new(rule: &'a IgnoreRule) -> Result<CompiledRule<'a>, CoreError> {
        if rule.reason.trim().is_empty() {
            return Err(invalid(
                rule,
                "`reason` is required: say why the finding is accepted",
            ));
        }
        let id = selector(rule, "id", &rule.id)?;
        let package = selector(rule, "package", &rule.package)?;
        let path = selector(rule, "path", &rule.path)?;
        let purl = selector(rule, "purl", &rule.purl)?;
        if id.is_none() && package.is_none() && path.is_none() && purl.is_none() {
            return Err(invalid(
                rule,
                "the rule selects nothing: give at least one of `id`, `package`, `path`, `purl`",
            ));
        }
        let path = path
            .map(PathGlob::new)
            .transpose()
            .map_err(|e| invalid(rule, e))?;
        let purl = purl
            .map(Purl::parse)
            .transpose()
            .map_err(|e| invalid(rule, format!("`purl`: {e}")))?;
        let expires = match selector(rule, "expires", &rule.expires)? {
            Some(text) => Some(Date::parse_day_of(text).ok_or_else(|| {
                invalid(
                    rule,
                    format!(
                        "`expires` `{text}` is not a date (YYYY-MM-DD or an RFC 3339 timestamp)"
                    ),
                )
            })?),
            None => None,
        };
        Ok(CompiledRule {
            rule,
            id,
            package,
            path,
            purl,
            expires,
        })
    }

    /// A rule is expired the day after its `expires` date.
    pub fn is_expired(&self, today: Option<Date>) -> bool {
        matches!((self.expires, today), (Some(expires), Some(today)) if today > expires)
    }

    /// Whether every selector the rule gives matches `finding` (whose purl, parsed
    /// once by the caller, is `finding_purl`).
    pub fn matches(&self, finding: &Finding, finding_purl: Option<&Purl>) -> bool {
        // Advisory ids are upper case by convention (CVE-, GHSA-, DSA-), but users
        // and tools write `cve-…`, and GHSA bodies are lower case: compare without case.
        let id_ok = self
            .id
            .is_none_or(|id| finding.ids().any(|f| f.eq_ignore_ascii_case(id)));
        let package_ok = self
            .package
            .is_none_or(|p| finding.name == p || finding.source_name == p);
        let path_ok = self
            .path
            .as_ref()
            .is_none_or(|glob| glob.matches(&finding.path));
        let purl_ok = self.purl.as_ref().is_none_or(|selector| {
            finding_purl.is_some_and(|f| purl_match::designates(selector, f))
        });
        id_ok && package_ok && path_ok && purl_ok
    }

    /// What the rule names, for notices: `CVE-2023-4911`, `package openssl, path usr/lib/**`.
    pub fn subject(&self) -> String {
        let mut parts = Vec::new();
        if let Some(id) = self.id {
            parts.push(id.to_string());
        }
        if let Some(package) = self.package {
            parts.push(format!("package {package}"));
        }
        if let Some(path) = self.rule.path.as_deref() {
            parts.push(format!("path {}", path.trim()));
        }
        if let Some(purl) = self.rule.purl.as_deref() {
            parts.push(format!("purl {}", purl.trim()));
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vuln::{Severity, Status};

    fn rule(
        id: Option<&str>,
        package: Option<&str>,
        path: Option<&str>,
        purl: Option<&str>,
    ) -> IgnoreRule {
        IgnoreRule {
            id: id.map(String::from),
            package: package.map(String::from),
            path: path.map(String::from),
            purl: purl.map(String::from),
            reason: "accepted".into(),
            expires: None,
            origin: ".customs.yaml: ignores[0]".into(),
        }
    }

    fn finding() -> Finding {
        Finding {
            id: "CVE-2023-4911".into(),
            aliases: vec!["DSA-5514-1".into()],
            name: "libc6".into(),
            installed_version: "2.36-9+deb12u1".into(),
            fixed_version: None,
            status: Status::Fixed,
            severity: Severity::High,
            severity_source: "debian".into(),
            cvss: None,
            title: String::new(),
            ecosystem: "Debian:12".into(),
            source_name: "glibc".into(),
            source_version: "2.36-9+deb12u1".into(),
            purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12.1".into(),
            path: "var/lib/dpkg/status".into(),
            layer: "sha256:aa".into(),
        }
    }

    fn matches(r: &IgnoreRule) -> bool {
        let f = finding();
        let purl = Purl::parse(&f.purl).ok();
        CompiledRule::new(r).unwrap().matches(&f, purl.as_ref())
    }

    #[test]
    fn each_selector_matches() {
        assert!(matches(&rule(Some("cve-2023-4911"), None, None, None)));
        assert!(
            matches(&rule(Some("DSA-5514-1"), None, None, None)),
            "aliases count"
        );
        assert!(matches(&rule(None, Some("libc6"), None, None)));
        assert!(
            matches(&rule(None, Some("glibc"), None, None)),
            "the source package counts"
        );
        assert!(matches(&rule(None, None, Some("var/lib/**"), None)));
        assert!(matches(&rule(
            None,
            None,
            None,
            Some("pkg:deb/debian/libc6?distro=debian-12")
        )));
        assert!(!matches(&rule(Some("CVE-2023-4912"), None, None, None)));
        assert!(!matches(&rule(None, Some("libc"), None, None)));
        assert!(!matches(&rule(None, None, Some("usr/**"), None)));
        assert!(!matches(&rule(
            None,
            None,
            None,
            Some("pkg:deb/debian/libc6@2.36-9+deb12u3")
        )));
    }

    #[test]
    fn all_given_selectors_must_match() {
        assert!(matches(&rule(
            Some("CVE-2023-4911"),
            Some("libc6"),
            Some("var/lib/dpkg/*"),
            Some("pkg:deb/debian/libc6")
        )));
        assert!(!matches(&rule(
            Some("CVE-2023-4911"),
            Some("openssl"),
            None,
            None
        )));
        assert!(!matches(&rule(
            Some("CVE-2023-4911"),
            None,
            Some("usr/lib/**"),
            None
        )));
    }

    #[test]
    fn invalid_rules_name_their_origin() {
        let mut no_reason = rule(Some("CVE-1"), None, None, None);
        no_reason.reason = "  ".into();
        let cases = [
            (no_reason, "`reason` is required"),
            (rule(None, None, None, None), "selects nothing"),
            (rule(Some(" "), None, None, None), "`id` is empty"),
            (rule(None, None, Some("/"), None), "names no path"),
            (
                rule(None, None, None, Some("deb/debian/x")),
                "not a valid purl",
            ),
            (
                IgnoreRule {
                    expires: Some("2027-02-30".into()),
                    ..rule(Some("CVE-1"), None, None, None)
                },
                "is not a date",
            ),
        ];
        for (r, expected) in cases {
            let message = validate_ignore_rule(&r).unwrap_err().to_string();
            assert!(message.contains(".customs.yaml: ignores[0]: "), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn expiry_is_exclusive_of_the_day() {
        let r = IgnoreRule {
            expires: Some("2027-01-31T12:00:00+02:00".into()),
            ..rule(Some("CVE-1"), None, None, None)
        };
        let c = CompiledRule::new(&r).unwrap();
        assert!(!c.is_expired(Date::parse("2027-01-31")));
        assert!(c.is_expired(Date::parse("2027-02-01")));
        assert!(!c.is_expired(None));
    }

    #[test]
    fn subject_lists_the_selectors() {
        let r = rule(
            Some("CVE-2023-4911"),
            Some("libc6"),
            Some("usr/lib/**"),
            None,
        );
        assert_eq!(
            CompiledRule::new(&r).unwrap().subject(),
            "CVE-2023-4911, package libc6, path usr/lib/**"
        );
    }
}
