//! The suppression policy end to end: ignore rules and OpenVEX documents applied
//! to the findings of a Debian 12 image (`ghcr.io/acme/billing-api:1.4.2`).
//!
//! The VEX fixtures under `fixtures/policy/vex/` follow the OpenVEX v0.2.0
//! specification (and, for `legacy-v0.0.1.openvex.json`, the earlier shape with
//! string vulnerabilities and products) the way vexctl writes them.
use customs_core::policy::{
    self, IgnoreRule, Policy, PolicyContext, PolicyOutcome, SuppressedBy, VexInput,
};
use customs_core::vuln::Finding;
use std::path::{Path, PathBuf};

const CONFIG_DIGEST: &str =
    "sha256:7ea99645baa3ab0fb7e3d92f0e78e9b23913d4e832e835fd0de92ec519a1ba11";
const MANIFEST_DIGEST: &str =
    "sha256:9610c3074fc449799c268a0bafbc2eae5d699fe2a3d64293b4fee60853244664";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy")
}

fn findings() -> Vec<Finding> {
    let text = std::fs::read_to_string(fixtures().join("findings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vex(name: &str) -> VexInput {
    let text = std::fs::read_to_string(fixtures().join("vex").join(name)).unwrap();
    VexInput {
        name: name.to_string(),
        text,
    }
}

fn context() -> PolicyContext {
    PolicyContext {
        today: "2024-06-01".into(),
        image_reference: "ghcr.io/acme/billing-api:1.4.2".into(),
        image_digests: vec![CONFIG_DIGEST.into(), MANIFEST_DIGEST.into()],
    }
}

/// A rule written at `.customs.yaml: ignores[<index>]`.
fn rule(index: usize) -> IgnoreRule {
    IgnoreRule {
        id: None,
        package: None,
        path: None,
        purl: None,
        reason: "accepted risk".into(),
        expires: None,
        origin: format!(".customs.yaml: ignores[{index}]"),
    }
}

fn apply(ignores: Vec<IgnoreRule>, vex: Vec<VexInput>) -> PolicyOutcome {
    policy::apply(findings(), &Policy { ignores, vex }, &context())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn apply_err(ignores: Vec<IgnoreRule>, vex: Vec<VexInput>) -> String {
    policy::apply(findings(), &Policy { ignores, vex }, &context())
        .unwrap_err()
        .to_string()
}

/// `name id` of each suppressed finding, in order.
fn suppressed(outcome: &PolicyOutcome) -> Vec<String> {
    outcome
        .suppressed
        .iter()
        .map(|s| format!("{} {}", s.finding.name, s.finding.id))
        .collect()
}

fn origins(notices: &[policy::Notice]) -> Vec<&str> {
    notices.iter().map(|n| n.origin.as_str()).collect()
}

/// The rules of the realistic scenario (mirrors `fixtures/policy/customs.yaml`).
fn scenario_rules() -> Vec<IgnoreRule> {
    vec![
        IgnoreRule {
            id: Some("cve-2023-5678".into()),
            reason: "the openssl CLI is never run with DH parameters from outside".into(),
            expires: Some("2099-12-31".into()),
            ..rule(0)
        },
        IgnoreRule {
            package: Some("perl".into()),
            path: Some("var/lib/dpkg/**".into()),
            reason: "perl is only used by dpkg maintainer scripts at build time".into(),
            ..rule(1)
        },
        IgnoreRule {
            id: Some("CVE-2020-0001".into()),
            reason: "old false positive".into(),
            ..rule(2)
        },
        IgnoreRule {
            id: Some("CVE-2023-38545".into()),
            reason: "no SOCKS5 proxy until the curl upgrade lands".into(),
            expires: Some("2024-01-31".into()),
            ..rule(3)
        },
        IgnoreRule {
            id: Some("CVE-2023-4911".into()),
            purl: Some("pkg:deb/debian/libc-bin?distro=debian-12".into()),
            reason: "ldconfig and ld.so are not setuid in this image".into(),
            ..rule(4)
        },
    ]
}

fn scenario_vex() -> Vec<VexInput> {
    vec![
        vex("billing-api.openvex.json"),
        vex("curl-followup.openvex.json"),
        vex("legacy-v0.0.1.openvex.json"),
    ]
}

#[test]
fn realistic_scenario_snapshot() {
    let outcome = apply(scenario_rules(), scenario_vex());
    insta::with_settings!({ snapshot_path => "fixtures/policy/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_json_snapshot!("realistic_scenario", outcome);
    });
}

#[test]
fn realistic_scenario_decisions() {
    let outcome = apply(scenario_rules(), scenario_vex());
    assert_eq!(
        suppressed(&outcome),
        [
            "libc6 CVE-2023-4911",
            "libc-bin CVE-2023-4911",
            "zlib1g CVE-2023-45853",
            "libssl3 CVE-2024-0727",
            "openssl CVE-2023-5678",
            "perl-base CVE-2023-31484",
            "urllib3 CVE-2023-43804",
            "libc6 CVE-2024-2961",
        ]
    );
    let kept: Vec<&str> = outcome.kept.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        kept,
        ["CVE-2023-38545", "CVE-2024-26461"],
        "the curl follow-up says affected, later than the not_affected"
    );
    assert_eq!(
        origins(&outcome.expired_ignores),
        [".customs.yaml: ignores[3]"]
    );
    assert_eq!(
        outcome.expired_ignores[0].expires.as_deref(),
        Some("2024-01-31")
    );
    assert_eq!(
        origins(&outcome.stale_ignores),
        [".customs.yaml: ignores[2]"]
    );
    assert_eq!(
        origins(&outcome.unmatched_vex),
        [
            "billing-api.openvex.json: statements[5]",
            "billing-api.openvex.json: statements[8]",
            "billing-api.openvex.json: statements[9]",
            "legacy-v0.0.1.openvex.json: statements[1]",
        ]
    );
    // Ignore rules come first: perl-base is covered by rule 1 and by the legacy VEX
    // statement; the rule is the reason shown, and the statement is not unmatched.
    let perl = outcome
        .suppressed
        .iter()
        .find(|s| s.finding.name == "perl-base")
        .unwrap();
    assert!(
        matches!(&perl.suppressed, SuppressedBy::Ignore { origin, .. } if origin == ".customs.yaml: ignores[1]")
    );
}

#[test]
fn outcome_is_deterministic() {
    let first = serde_json::to_string(&apply(scenario_rules(), scenario_vex())).unwrap();
    let second = serde_json::to_string(&apply(scenario_rules(), scenario_vex())).unwrap();
    assert_eq!(first, second);
}

#[test]
fn empty_policy_keeps_everything_in_order() {
    let outcome = apply(vec![], vec![]);
    assert_eq!(outcome.kept, findings());
    assert!(
        outcome.suppressed.is_empty()
            && outcome.stale_ignores.is_empty()
            && outcome.unmatched_vex.is_empty()
    );
}

// ---- ignore rules ----

#[test]
fn id_matches_primary_id_and_aliases_without_case() {
    let by_alias = apply(
        vec![IgnoreRule {
            id: Some("GHSA-V845-JXX5-VC9F".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(suppressed(&by_alias), ["urllib3 CVE-2023-43804"]);
    let by_dsa = apply(
        vec![IgnoreRule {
            id: Some("dsa-5514-1".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(
        suppressed(&by_dsa),
        ["libc6 CVE-2023-4911", "libc-bin CVE-2023-4911"]
    );
}

#[test]
fn package_matches_binary_or_source_name() {
    let by_source = apply(
        vec![IgnoreRule {
            package: Some("openssl".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(
        suppressed(&by_source),
        ["libssl3 CVE-2024-0727", "openssl CVE-2023-5678"]
    );
    let by_binary = apply(
        vec![IgnoreRule {
            package: Some("libssl3".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(suppressed(&by_binary), ["libssl3 CVE-2024-0727"]);
}

#[test]
fn path_glob_selects_by_package_database() {
    let python = apply(
        vec![IgnoreRule {
            path: Some("usr/lib/**/*.dist-info/*".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(suppressed(&python), ["urllib3 CVE-2023-43804"]);
    let nothing = apply(
        vec![IgnoreRule {
            path: Some("usr/lib/*/METADATA".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert!(
        nothing.suppressed.is_empty(),
        "`*` stays within one segment"
    );
    assert_eq!(
        origins(&nothing.stale_ignores),
        [".customs.yaml: ignores[0]"]
    );
}

#[test]
fn purl_qualifiers_are_tolerant_at_version_boundaries() {
    let debian_12 = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/zlib1g?distro=debian-12".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(
        suppressed(&debian_12),
        ["zlib1g CVE-2023-45853"],
        "debian-12 covers debian-12.5"
    );
    let debian_1 = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/zlib1g?distro=debian-1".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert!(
        debian_1.suppressed.is_empty(),
        "debian-1 does not cover debian-12.5"
    );
    let codename = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/zlib1g?distro=bookworm".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(
        suppressed(&codename),
        ["zlib1g CVE-2023-45853"],
        "bookworm is debian-12"
    );
    let other_release = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/zlib1g?distro=bullseye".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert!(other_release.suppressed.is_empty(), "bullseye is debian-11");
    let arch = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/zlib1g?arch=arm64".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert!(
        arch.suppressed.is_empty(),
        "arch must be equal when both give it"
    );
    let epoch = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?epoch=2".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert!(epoch.suppressed.is_empty(), "a stated epoch must agree");
    let version = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/libc6@2.36-9%2Bdeb12u1".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert_eq!(
        suppressed(&version),
        ["libc6 CVE-2023-4911", "libc6 CVE-2024-2961"]
    );
    let other_version = apply(
        vec![IgnoreRule {
            purl: Some("pkg:deb/debian/libc6@2.36-9+deb12u3".into()),
            ..rule(0)
        }],
        vec![],
    );
    assert!(other_version.suppressed.is_empty());
}

#[test]
fn every_given_selector_must_match() {
    let both = IgnoreRule {
        id: Some("CVE-2024-2961".into()),
        package: Some("glibc".into()),
        ..rule(0)
    };
    assert_eq!(
        suppressed(&apply(vec![both], vec![])),
        ["libc6 CVE-2024-2961"]
    );
    let disagreeing = IgnoreRule {
        id: Some("CVE-2024-2961".into()),
        package: Some("openssl".into()),
        ..rule(0)
    };
    let outcome = apply(vec![disagreeing], vec![]);
    assert!(outcome.suppressed.is_empty());
    assert_eq!(
        origins(&outcome.stale_ignores),
        [".customs.yaml: ignores[0]"]
    );
}

#[test]
fn first_matching_rule_is_the_reason_and_all_count_as_used() {
    let outcome = apply(
        vec![
            IgnoreRule {
                package: Some("zlib".into()),
                reason: "first".into(),
                ..rule(0)
            },
            IgnoreRule {
                id: Some("CVE-2023-45853".into()),
                reason: "second".into(),
                ..rule(1)
            },
        ],
        vec![],
    );
    assert!(
        matches!(&outcome.suppressed[0].suppressed, SuppressedBy::Ignore { reason, .. } if reason == "first")
    );
    assert!(outcome.stale_ignores.is_empty());
}

#[test]
fn expiry_day_is_inclusive_and_expired_rules_do_not_apply() {
    let on_the_day = IgnoreRule {
        id: Some("CVE-2024-26461".into()),
        expires: Some("2024-06-01".into()),
        ..rule(0)
    };
    let outcome = apply(vec![on_the_day], vec![]);
    assert_eq!(suppressed(&outcome), ["libkrb5-3 CVE-2024-26461"]);
    assert!(
        matches!(&outcome.suppressed[0].suppressed, SuppressedBy::Ignore { expires: Some(d), .. } if d == "2024-06-01")
    );

    let rfc3339 = IgnoreRule {
        id: Some("CVE-2024-26461".into()),
        expires: Some("2024-05-31T23:59:59-08:00".into()),
        ..rule(0)
    };
    let outcome = apply(vec![rfc3339], vec![]);
    assert!(
        outcome.suppressed.is_empty(),
        "the date part (2024-05-31) is compared"
    );
    assert_eq!(outcome.expired_ignores.len(), 1);
    assert_eq!(
        outcome.expired_ignores[0].expires.as_deref(),
        Some("2024-05-31")
    );
    assert_eq!(outcome.expired_ignores[0].subject, "CVE-2024-26461");
    assert!(
        outcome.stale_ignores.is_empty(),
        "an expired rule is reported once, as expired"
    );
}

#[test]
fn stale_rules_are_reported_in_written_order() {
    let rules = (0..12)
        .map(|i| IgnoreRule {
            id: Some(format!("CVE-2000-{i:04}")),
            ..rule(i)
        })
        .collect();
    let outcome = apply(rules, vec![]);
    let expected: Vec<String> = (0..12)
        .map(|i| format!(".customs.yaml: ignores[{i}]"))
        .collect();
    assert_eq!(origins(&outcome.stale_ignores), expected);
    assert_eq!(outcome.stale_ignores[11].subject, "CVE-2000-0011");
}

#[test]
fn invalid_rules_are_errors_naming_the_origin() {
    let cases = [
        (
            IgnoreRule {
                id: Some("CVE-1".into()),
                reason: String::new(),
                ..rule(3)
            },
            "`reason` is required",
        ),
        (rule(3), "selects nothing"),
        (
            IgnoreRule {
                id: Some("CVE-1".into()),
                expires: Some("2024-02-30".into()),
                ..rule(3)
            },
            "`expires` `2024-02-30` is not a date",
        ),
        (
            IgnoreRule {
                id: Some("CVE-1".into()),
                expires: Some("31/01/2027".into()),
                ..rule(3)
            },
            "is not a date",
        ),
        (
            IgnoreRule {
                purl: Some("zlib1g".into()),
                ..rule(3)
            },
            "is not a valid purl",
        ),
        (
            IgnoreRule {
                package: Some(String::new()),
                ..rule(3)
            },
            "`package` is empty",
        ),
    ];
    for (bad, expected) in cases {
        let message = apply_err(vec![rule_ok(), bad], vec![]);
        assert!(message.contains(".customs.yaml: ignores[3]: "), "{message}");
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!message.contains('\n'));
    }
}

fn rule_ok() -> IgnoreRule {
    IgnoreRule {
        id: Some("CVE-2023-4911".into()),
        ..rule(0)
    }
}

#[test]
fn a_bad_today_is_an_error_only_when_expiry_needs_it() {
    let expiring = IgnoreRule {
        id: Some("CVE-2023-4911".into()),
        expires: Some("2027-01-31".into()),
        ..rule(0)
    };
    let bad_today = PolicyContext {
        today: "June 1st".into(),
        ..context()
    };
    let err = policy::apply(
        findings(),
        &Policy {
            ignores: vec![expiring],
            vex: vec![],
        },
        &bad_today,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("`June 1st` is not a date"),
        "{err}"
    );
    assert!(
        policy::apply(
            findings(),
            &Policy {
                ignores: vec![rule_ok()],
                vex: vec![]
            },
            &bad_today
        )
        .is_ok()
    );
}

// ---- OpenVEX ----

#[test]
fn vex_suppression_carries_the_statement() {
    let outcome = apply(vec![], vec![vex("billing-api.openvex.json")]);
    let zlib = outcome
        .suppressed
        .iter()
        .find(|s| s.finding.name == "zlib1g")
        .unwrap();
    assert_eq!(
        zlib.suppressed,
        SuppressedBy::Vex {
            document: "billing-api.openvex.json".into(),
            origin: "billing-api.openvex.json: statements[1]".into(),
            status: "not_affected".into(),
            justification: Some("vulnerable_code_not_present".into()),
            statement: Some(
                "MiniZip (contrib/minizip) is not part of the Debian zlib1g binary package.".into()
            ),
        }
    );
}

#[test]
fn latest_statement_wins_whatever_the_order() {
    // Within one document: under_investigation (02-20) then not_affected (02-25).
    let outcome = apply(vec![], vec![vex("billing-api.openvex.json")]);
    assert!(suppressed(&outcome).contains(&"libssl3 CVE-2024-0727".to_string()));
    assert!(
        suppressed(&outcome).contains(&"libcurl4 CVE-2023-38545".to_string()),
        "alone, the 01-05 not_affected applies"
    );
    // Across documents, in either order on the command line: the 03-10 `affected` wins.
    for docs in [
        vec![
            vex("billing-api.openvex.json"),
            vex("curl-followup.openvex.json"),
        ],
        vec![
            vex("curl-followup.openvex.json"),
            vex("billing-api.openvex.json"),
        ],
    ] {
        let outcome = apply(vec![], docs);
        assert!(outcome.kept.iter().any(|f| f.name == "libcurl4"));
        assert!(
            !origins(&outcome.unmatched_vex).contains(&"billing-api.openvex.json: statements[4]"),
            "superseded, but it matched"
        );
    }
}

#[test]
fn equal_timestamps_let_the_later_statement_win() {
    let doc = |status: &str| {
        format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2024-03-01T00:00:00Z", "statements": [
            {{"vulnerability": {{"name": "CVE-2024-26461"}}, "products": [{{"@id": "pkg:deb/debian/libkrb5-3"}}], "status": "{status}"}}]}}"#
        )
    };
    let input = |name: &str, status: &str| VexInput {
        name: name.into(),
        text: doc(status),
    };
    let later_suppresses = apply(
        vec![],
        vec![input("a.json", "affected"), input("b.json", "not_affected")],
    );
    assert_eq!(suppressed(&later_suppresses), ["libkrb5-3 CVE-2024-26461"]);
    let later_confirms = apply(
        vec![],
        vec![input("a.json", "not_affected"), input("b.json", "affected")],
    );
    assert!(later_confirms.suppressed.is_empty());
}

#[test]
fn image_product_with_subcomponents_covers_only_them() {
    let outcome = apply(vec![], vec![vex("billing-api.openvex.json")]);
    let names: Vec<String> = suppressed(&outcome);
    assert!(names.contains(&"libc6 CVE-2023-4911".to_string()));
    assert!(
        outcome
            .kept
            .iter()
            .any(|f| f.name == "libc-bin" && f.id == "CVE-2023-4911"),
        "libc-bin is not a listed subcomponent"
    );
}

#[test]
fn image_product_without_subcomponents_covers_every_package() {
    let outcome = apply(vec![], vec![vex("billing-api.openvex.json")]);
    assert!(suppressed(&outcome).contains(&"libc6 CVE-2024-2961".to_string()));
    // Another image's digest never matches, even with the same name.
    assert!(origins(&outcome.unmatched_vex).contains(&"billing-api.openvex.json: statements[8]"));
}

#[test]
fn image_product_by_name_when_it_pins_no_digest() {
    let doc = |product: &str| VexInput {
        name: "by-name.json".into(),
        text: format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2024-03-01T00:00:00Z", "statements": [
            {{"vulnerability": {{"name": "CVE-2024-26461"}}, "products": [{{"@id": "{product}"}}], "status": "not_affected", "justification": "component_not_present"}}]}}"#
        ),
    };
    let same = apply(
        vec![],
        vec![doc(
            "pkg:oci/billing-api?repository_url=ghcr.io/acme/billing-api&tag=1.4.2",
        )],
    );
    assert_eq!(suppressed(&same), ["libkrb5-3 CVE-2024-26461"]);
    let other_tag = apply(
        vec![],
        vec![doc(
            "pkg:oci/billing-api?repository_url=ghcr.io/acme/billing-api&tag=1.4.1",
        )],
    );
    assert!(other_tag.suppressed.is_empty());
    let other_repo = apply(
        vec![],
        vec![doc(
            "pkg:oci/billing-api?repository_url=ghcr.io/other/billing-api",
        )],
    );
    assert!(other_repo.suppressed.is_empty());
    let by_config_digest = apply(vec![], vec![doc(CONFIG_DIGEST)]);
    assert_eq!(suppressed(&by_config_digest), ["libkrb5-3 CVE-2024-26461"]);
}

#[test]
fn vex_distro_qualifier_respects_version_boundaries() {
    // statements[9] names libc6 with distro=debian-1: the finding is debian-12.5.
    let outcome = apply(vec![], vec![vex("billing-api.openvex.json")]);
    let notice = outcome
        .unmatched_vex
        .iter()
        .find(|n| n.origin.ends_with("statements[9]"))
        .unwrap();
    assert_eq!(
        notice.subject,
        "CVE-2024-2961 on pkg:deb/debian/libc6?distro=debian-1"
    );
}

#[test]
fn affected_and_under_investigation_never_suppress_but_count_as_matched() {
    let outcome = apply(vec![], vec![vex("curl-followup.openvex.json")]);
    assert!(outcome.suppressed.is_empty());
    assert!(outcome.unmatched_vex.is_empty());
    let legacy = apply(vec![], vec![vex("legacy-v0.0.1.openvex.json")]);
    assert_eq!(suppressed(&legacy), ["perl-base CVE-2023-31484"]);
    assert_eq!(legacy.unmatched_vex.len(), 1);
    assert_eq!(
        legacy.unmatched_vex[0].subject,
        "CVE-2023-47038 on pkg:oci/billing-api?repository_url=ghcr.io/acme/billing-api [pkg:deb/debian/perl-base]"
    );
}

#[test]
fn alias_of_the_statement_meets_alias_of_the_finding() {
    // The statement names GHSA-v845-jxx5-vc9f; the finding's primary id is the CVE.
    let outcome = apply(vec![], vec![vex("billing-api.openvex.json")]);
    let urllib3 = outcome
        .suppressed
        .iter()
        .find(|s| s.finding.name == "urllib3")
        .unwrap();
    assert!(
        matches!(&urllib3.suppressed, SuppressedBy::Vex { status, statement: Some(_), .. } if status == "fixed")
    );
}

#[test]
fn malformed_documents_are_errors_not_panics() {
    let cases = [
        (
            "truncated.json",
            "truncated.json: not valid JSON: EOF while parsing",
        ),
        (
            "wrong-types.json",
            "wrong-types.json: statements[1].products: expected an array, found a string",
        ),
        (
            "missing-statements.json",
            "missing-statements.json: no `statements` array",
        ),
        (
            "not-openvex.json",
            "not-openvex.json: not an OpenVEX document",
        ),
        (
            "bad-status.json",
            "bad-status.json: statements[1].status: `false_positive` is not one of",
        ),
        (
            "bad-timestamp.json",
            "bad-timestamp.json: timestamp: `2024-03-01 10:00` is not an RFC 3339 timestamp",
        ),
    ];
    for (name, expected) in cases {
        let message = apply_err(
            vec![],
            vec![
                vex("billing-api.openvex.json"),
                vex(&format!("malformed/{name}")),
            ],
        );
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!message.contains('\n'), "{message}");
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let valid = std::fs::read_to_string(fixtures().join("vex/billing-api.openvex.json")).unwrap();
    // Every prefix and a handful of single-byte corruptions of a valid document.
    for cut in (0..valid.len()).step_by(7) {
        if let Some(prefix) = valid.get(..cut) {
            let _ = policy::apply(
                findings(),
                &Policy {
                    ignores: vec![],
                    vex: vec![VexInput {
                        name: "cut.json".into(),
                        text: prefix.into(),
                    }],
                },
                &context(),
            );
        }
    }
    for (i, replacement) in [(10, "["), (200, "}"), (400, "0"), (900, "\""), (1500, ":")] {
        let mut text = valid.clone();
        if text.is_char_boundary(i) && text.is_char_boundary(i + 1) {
            text.replace_range(i..i + 1, replacement);
        }
        let _ = policy::apply(
            findings(),
            &Policy {
                ignores: vec![],
                vex: vec![VexInput {
                    name: "bent.json".into(),
                    text,
                }],
            },
            &context(),
        );
    }
}

/// Found by the `vex_policy` fuzz target: a product id whose first four bytes end
/// inside a multi-byte character (`pk�:…`) panicked when its prefix was compared
/// with `pkg:`. It names nothing this scanner can find, so it matches nothing.
#[test]
fn product_ids_with_multibyte_characters_near_the_start() {
    for id in [
        "pk\u{fffd}:deb/debian/zlib1g@1.2.13.dfsg-1?distro=debian-12",
        "p\u{e9}g:x",
        "\u{1f600}",
    ] {
        let doc = serde_json::json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://example.com/vex/fuzz",
            "author": "fuzz",
            "timestamp": "2026-01-01T00:00:00Z",
            "version": 1,
            "statements": [{
                "vulnerability": {"name": "CVE-2024-0001"},
                "products": [{"@id": id}],
                "status": "not_affected",
                "justification": "component_not_present"
            }]
        });
        let outcome = apply(
            Vec::new(),
            vec![VexInput {
                name: "fuzz.json".into(),
                text: doc.to_string(),
            }],
        );
        assert!(outcome.suppressed.is_empty(), "{id}");
        assert_eq!(outcome.unmatched_vex.len(), 1, "{id}");
    }
}

/// Found by the `vex_policy` fuzz target: a carriage return inside a quoted field
/// reached the error message, which must stay one line.
#[test]
fn errors_quoting_document_text_stay_on_one_line() {
    let text =
        "{\n  \"@context\": \"https:///vex.acme.c\\rity@acme.example>\",\n  \"statements\": []\n}";
    let err = apply_err(
        Vec::new(),
        vec![VexInput {
            name: "fuzz.json".into(),
            text: text.into(),
        }],
    );
    assert!(!err.contains(['\n', '\r']), "{err:?}");
    assert!(err.contains("\\r"), "{err}");
}
