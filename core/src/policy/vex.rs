//! VEX statements as the policy uses them: which statements speak about a
//! finding, which of them decides, and which spoke about nothing.
//!
//! Reading the documents is [`super::openvex`]'s job; this module only matches.
use super::date::Timestamp;
use super::image::ImageIdentity;
use super::openvex;
use super::purl_match::{self, Purl};
use super::{Notice, VexInput};
use crate::CoreError;
use crate::vuln::Finding;
use std::collections::HashMap;

/// How many products a notice lists before it says "and N more".
const SUBJECT_PRODUCTS: usize = 3;

/// The impact status of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub(super) fn parse(label: &str) -> Option<VexStatus> {
        Some(match label {
            "not_affected" => VexStatus::NotAffected,
            "affected" => VexStatus::Affected,
            "fixed" => VexStatus::Fixed,
            "under_investigation" => VexStatus::UnderInvestigation,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// Only a statement that the product is not affected, or no longer affected,
    /// removes a finding; the others confirm it or leave it open.
    pub fn suppresses(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

/// A product or subcomponent, by every identifier the statement gives for it.
#[derive(Debug)]
pub(super) struct Component {
    pub(super) purls: Vec<Purl>,
    /// `algorithm:hex` digests (a digest `@id`, `hashes`), lower case.
    pub(super) digests: Vec<String>,
    /// How the document names it, for notices.
    pub(super) label: String,
}

impl Component {
    /// Whether one of the component's package purls designates the finding's package.
    fn designates_package(&self, package: Option<&Purl>) -> bool {
        package.is_some_and(|package| {
            self.purls
                .iter()
                .any(|p| !p.is_image() && purl_match::designates(p, package))
        })
    }

    fn designates_image(&self, image: &ImageIdentity) -> bool {
        self.digests.iter().any(|d| image.has_digest(d))
            || self
                .purls
                .iter()
                .any(|p| p.is_image() && image.is_designated_by(p))
    }
}

#[derive(Debug)]
pub(super) struct Product {
    pub(super) component: Component,
    pub(super) subcomponents: Vec<Component>,
}

impl Product {
    /// An image product covers the packages its subcomponents name, or every package
    /// of the image when it names none. A package product covers that package; its
    /// subcomponents only say where in it the flaw lives, since a finding cannot be
    /// traced to the inside of another package.
    fn covers(&self, package: Option<&Purl>, image: &ImageIdentity) -> bool {
        if self.component.designates_image(image) {
            return self.subcomponents.is_empty()
                || self
                    .subcomponents
                    .iter()
                    .any(|s| s.designates_package(package));
        }
        self.component.designates_package(package)
    }

    fn label(&self) -> String {
        if self.subcomponents.is_empty() {
            return self.component.label.clone();
        }
        format!(
            "{} [{}]",
            self.component.label,
            shortened(self.subcomponents.iter().map(|s| s.label.clone()).collect())
        )
    }
}

/// One statement, with what it inherited from its document.
#[derive(Debug)]
pub struct Statement {
    /// The document's name as given.
    pub document: String,
    /// `<document>: statements[<i>]`.
    pub origin: String,
    /// The vulnerability's `name`.
    pub vulnerability: String,
    /// `name` and `aliases`, lower case (ids compare without case).
    pub(super) ids: Vec<String>,
    pub(super) products: Vec<Product>,
    pub status: VexStatus,
    pub justification: Option<String>,
    /// Free text: the impact statement, else the status notes.
    pub statement: Option<String>,
    /// The statement's timestamp, else the document's.
    pub timestamp: Option<Timestamp>,
}

impl Statement {
    /// Whether one of the statement's products covers the finding's package.
    fn applies_to(&self, package: Option<&Purl>, image: &ImageIdentity) -> bool {
        self.products.iter().any(|p| p.covers(package, image))
    }

    /// `CVE-2023-1234 on pkg:oci/app@sha256:… [pkg:deb/debian/zlib1g]`, for notices.
    pub(super) fn subject(&self) -> String {
        if self.products.is_empty() {
            return format!("{} (no product)", self.vulnerability);
        }
        format!(
            "{} on {}",
            self.vulnerability,
            shortened(self.products.iter().map(Product::label).collect())
        )
    }
}

/// Joins labels, naming at most [`SUBJECT_PRODUCTS`] of them.
fn shortened(labels: Vec<String>) -> String {
    let total = labels.len();
    let mut text = labels
        .into_iter()
        .take(SUBJECT_PRODUCTS)
        .collect::<Vec<_>>()
        .join(", ");
    if total > SUBJECT_PRODUCTS {
        text.push_str(&format!(" and {} more", total - SUBJECT_PRODUCTS));
    }
    text
}

/// Every statement of every document, indexed by vulnerability id (lower case) so
/// that a finding meets only the statements about its own ids.
#[derive(Debug, Default)]
pub struct VexStatements {
    statements: Vec<Statement>,
    by_id: HashMap<String, Vec<usize>>,
}

impl VexStatements {
    /// Parses `inputs` in the order given; that order breaks timestamp ties.
    pub fn parse(inputs: &[VexInput]) -> Result<VexStatements, CoreError> {
        let mut budget = openvex::Budget::default();
        let mut statements = Vec::new();
        for input in inputs {
            statements.extend(openvex::parse_document(input, &mut budget)?);
        }
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, statement) in statements.iter().enumerate() {
            for id in &statement.ids {
                by_id.entry(id.clone()).or_default().push(i);
            }
        }
        Ok(VexStatements { statements, by_id })
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// The statement that decides about `finding`: of those naming one of its ids
    /// and covering its package, the latest (OpenVEX statements form a sequence,
    /// each overriding the previous); on equal timestamps, the one given later.
    /// Every statement that covers the finding is marked in `matched`.
    pub fn deciding(
        &self,
        finding: &Finding,
        package: Option<&Purl>,
        image: &ImageIdentity,
        matched: &mut [bool],
    ) -> Option<&Statement> {
        let mut candidates: Vec<usize> = finding
            .ids()
            .filter_map(|id| self.by_id.get(&id.to_ascii_lowercase()))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut latest: Option<&Statement> = None;
        for i in candidates {
            let statement = &self.statements[i];
            if statement.applies_to(package, image) {
                matched[i] = true;
                if latest.is_none_or(|l| statement.timestamp >= l.timestamp) {
                    latest = Some(statement);
                }
            }
        }
        latest
    }

    /// Notices for the statements `matched` does not mark.
    pub fn unmatched(&self, matched: &[bool]) -> Vec<Notice> {
        self.statements
            .iter()
            .zip(matched)
            .filter(|(_, matched)| !**matched)
            .map(|(s, _)| Notice {
                origin: s.origin.clone(),
                subject: s.subject(),
                expires: None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(text: &str) -> VexStatements {
        VexStatements::parse(&[VexInput {
            name: "app.vex.json".into(),
            text: text.into(),
        }])
        .unwrap()
    }

    #[test]
    fn subjects_name_vulnerability_and_products() {
        let set = statements(
            r#"{"@context": "https://openvex.dev/ns", "statements": [
            {"vulnerability": "CVE-1", "status": "fixed", "products": [
                {"@id": "pkg:oci/app@sha256%3A0123456789abcdef0123456789abcdef", "subcomponents": [{"@id": "pkg:deb/debian/zlib1g"}]},
                "pkg:deb/debian/a", "pkg:deb/debian/b", "pkg:deb/debian/c"]},
            {"vulnerability": "CVE-2", "status": "fixed"}]}"#,
        );
        let notices = set.unmatched(&[false, false]);
        assert_eq!(
            notices[0].subject,
            "CVE-1 on pkg:oci/app@sha256%3A0123456789abcdef0123456789abcdef [pkg:deb/debian/zlib1g], \
             pkg:deb/debian/a, pkg:deb/debian/b and 1 more"
        );
        assert_eq!(notices[1].subject, "CVE-2 (no product)");
        assert_eq!(notices[1].origin, "app.vex.json: statements[1]");
    }

    #[test]
    fn hashes_and_digest_ids_identify_images() {
        let set = statements(
            r#"{"@context": "https://openvex.dev/ns", "statements": [{"vulnerability": "CVE-1", "status": "fixed",
            "products": [{"@id": "sha256:0123456789abcdef0123456789abcdef"},
                         {"@id": "https://example.com/app", "hashes": {"sha-256": "ABCDEF0123456789abcdef0123456789"}}]}]}"#,
        );
        let s = &set.statements[0];
        let image = ImageIdentity::new(
            "app:1",
            &["sha256:abcdef0123456789abcdef0123456789".to_string()],
        );
        assert!(s.products[1].component.designates_image(&image));
        assert!(!s.products[0].component.designates_image(&image));
        assert!(
            s.applies_to(None, &image),
            "an image product without subcomponents covers every package"
        );
    }
}
