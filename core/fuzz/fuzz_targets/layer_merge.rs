//! Fuzzes a whole scan below the tar reader: arbitrary sequences of entries,
//! whiteouts, opaque markers and file contents per layer, fed through
//! `customs_core::api::LayerSession` exactly as the engines do, then `merge_json` and
//! `render`.
//!
//! Properties: nothing panics; every error is one line; facts the core produced
//! itself always merge (a failure there would break every scan of such an image);
//! a merged report always renders.
#![no_main]

use arbitrary::Arbitrary;
use customs_core::{
    api::{self, LayerSession},
    layer::Interest,
    model::{EntryKind, EntryMeta, ImageMeta, LayerInfo, MergeOptions, Report},
    os::OS_FILES,
};
use customs_core_fuzz::assert_one_line;
use libfuzzer_sys::fuzz_target;

/// Caps that keep one input fast; size limits are the parsers' own business.
const MAX_LAYERS: usize = 6;
const MAX_OPS: usize = 24;

/// Small, valid files of each analyzed kind, so that merges carry real packages and
/// OS information without the fuzzer having to discover the formats first.
const SAMPLES: &[&str] = &[
    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\n\n\
     Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n",
    "P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nC:Q1abcdefghijklmnopqrstuvwxyz0=\nF:lib\nR:ld-musl-x86_64.so.1\n\n\
     P:busybox\nV:1.36.1-r5\nA:x86_64\no:busybox\n",
    "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
    "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.3\"\n",
    "12.5\n",
    "3.19.1\n",
    "bash\t5.1.8-4.cm2\t1700000000\t1690000000\tMicrosoft Corporation\t(none)\t7000000\tx86_64\t0\tbash-5.1.8-4.cm2.src.rpm\n",
];

/// Where an entry or file goes: mostly the paths the analyzers care about (so that
/// whiteouts and replacements hit package databases), sometimes anything.
#[derive(Arbitrary, Debug)]
enum PathGen {
    Wanted(u8),
    Under(u8, String),
    Raw(String),
}

/// Spellings of the same path that tars use.
#[derive(Arbitrary, Debug)]
enum Decor {
    Plain,
    DotSlash,
    Slash,
    DoubleSlash,
    TrailingSlash,
    ClimbAbove,
}

#[derive(Arbitrary, Debug)]
struct PathSpec {
    base: PathGen,
    decor: Decor,
}

impl PathSpec {
    fn render(&self, wanted: &[String]) -> String {
        let pick = |i: u8| wanted[usize::from(i) % wanted.len()].clone();
        let base = match &self.base {
            PathGen::Wanted(i) => pick(*i),
            PathGen::Under(i, name) => format!("{}/{name}", pick(*i)),
            PathGen::Raw(s) => s.clone(),
        };
        match self.decor {
            Decor::Plain => base,
            Decor::DotSlash => format!("./{base}"),
            Decor::Slash => format!("/{base}"),
            Decor::DoubleSlash => base.replace('/', "//"),
            Decor::TrailingSlash => format!("{base}/"),
            Decor::ClimbAbove => format!("../../{base}"),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Shape {
    Plain,
    Whiteout,
    Opaque,
    AufsMeta,
}

#[derive(Arbitrary, Debug)]
struct Entry {
    path: PathSpec,
    shape: Shape,
    kind: u8,
    size: u64,
    mode: u32,
    uid: u64,
    gid: u64,
    link_target: Option<String>,
}

impl Entry {
    fn meta(&self, wanted: &[String]) -> EntryMeta {
        const KINDS: [EntryKind; 8] = [
            EntryKind::File,
            EntryKind::Dir,
            EntryKind::Symlink,
            EntryKind::Hardlink,
            EntryKind::CharDevice,
            EntryKind::BlockDevice,
            EntryKind::Fifo,
            EntryKind::Other,
        ];
        let p = self.path.render(wanted);
        let path = match self.shape {
            Shape::Plain => p,
            Shape::Whiteout => match p.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/.wh.{name}"),
                None => format!(".wh.{p}"),
            },
            Shape::Opaque => format!("{p}/.wh..wh..opq"),
            Shape::AufsMeta => format!("{p}/.wh..wh.plnk"),
        };
        EntryMeta {
            path,
            kind: KINDS[usize::from(self.kind) % KINDS.len()],
            size: self.size,
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
            link_target: self.link_target.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Entries(Vec<Entry>),
    File {
        path: PathSpec,
        content: Vec<u8>,
    },
    Sample {
        which: u8,
        path: PathSpec,
        tail: Vec<u8>,
    },
}

#[derive(Arbitrary, Debug)]
struct Layer {
    ops: Vec<Op>,
    /// Calls `finish` a second time, which must fail cleanly.
    finish_twice: bool,
    /// Replaces the layer facts handed to the merge (a tampered cache entry).
    tampered_facts: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    layers: Vec<Layer>,
    /// Makes the image's layer list disagree with the analyses.
    wrong_diff_id: Option<u8>,
    scanners: Vec<String>,
    tool_version: String,
    tampered_image: Option<String>,
    tampered_options: Option<String>,
}

fuzz_target!(|input: Input| {
    let interest = Interest::standard();
    let mut wanted: Vec<String> = interest.paths.iter().cloned().collect();
    wanted.extend(interest.children_of.iter().map(|d| format!("{d}/fuzz")));
    wanted.extend(OS_FILES.iter().map(|p| p.to_string()));
    wanted.extend(["etc", "var/lib", "var/lib/rpm", "lib/apk"].map(String::from));

    let mut layers_json = Vec::new();
    let mut infos = Vec::new();
    let mut tampered = false;
    for (i, layer) in input.layers.iter().take(MAX_LAYERS).enumerate() {
        let diff_id = format!("sha256:{i:064x}");
        let mut session = LayerSession::new(&diff_id);
        for op in layer.ops.iter().take(MAX_OPS) {
            let result = match op {
                Op::Entries(entries) => {
                    let metas: Vec<EntryMeta> = entries.iter().map(|e| e.meta(&wanted)).collect();
                    session.add_entries(&metas)
                }
                Op::File { path, content } => session.add_file(&path.render(&wanted), content),
                Op::Sample { which, path, tail } => {
                    let mut content = SAMPLES[usize::from(*which) % SAMPLES.len()]
                        .as_bytes()
                        .to_vec();
                    content.extend_from_slice(tail);
                    session.add_file(&path.render(&wanted), &content)
                }
            };
            if let Err(e) = result {
                assert_one_line(&e);
            }
        }
        let facts = match session.finish() {
            Ok(facts) => facts,
            Err(e) => {
                // The host aborts the scan on a layer it cannot analyze.
                assert_one_line(&e);
                return;
            }
        };
        if layer.finish_twice {
            assert_one_line(&session.finish().expect_err("a session finishes once"));
            assert_one_line(
                &session
                    .add_file("etc/os-release", b"ID=x")
                    .expect_err("finished session"),
            );
        }
        match &layer.tampered_facts {
            Some(t) => {
                tampered = true;
                layers_json.push(t.clone());
            }
            None => layers_json.push(facts),
        }
        infos.push(LayerInfo {
            diff_id,
            digest: None,
            size: 0,
            compression: "none".to_string(),
            created_by: None,
        });
    }
    if let Some(i) = input.wrong_diff_id
        && !infos.is_empty()
    {
        let n = usize::from(i) % infos.len();
        infos[n].diff_id = "sha256:other".to_string();
        tampered = true;
    }
    let image = ImageMeta {
        reference: "fuzz:latest".to_string(),
        source: "oci-layout".to_string(),
        tags: Vec::new(),
        manifest_digest: None,
        config_digest: "sha256:config".to_string(),
        platform: "linux/amd64".to_string(),
        layers: infos,
    };
    let options = MergeOptions {
        scanners: input.scanners.clone(),
        tool_version: input.tool_version.clone(),
    };
    let image_json = match &input.tampered_image {
        Some(t) => {
            tampered = true;
            t.clone()
        }
        None => serde_json::to_string(&image).unwrap(),
    };
    let options_json = match &input.tampered_options {
        Some(t) => {
            tampered = true;
            t.clone()
        }
        None => serde_json::to_string(&options).unwrap(),
    };
    match api::merge_json(&image_json, &layers_json, &options_json) {
        Ok(report_json) => {
            let report: Report =
                serde_json::from_str(&report_json).expect("the merge's report parses");
            assert!(
                report
                    .packages
                    .iter()
                    .all(|p| p.layer_index < report.image.meta.layers.len())
            );
            for format in ["json", "table"] {
                api::render(&report_json, format).expect("a merged report renders");
            }
            assert_one_line(&api::render(&report_json, "fuzz").expect_err("unknown format"));
        }
        Err(e) => {
            assert!(tampered, "facts the core produced do not merge: {e}");
            assert_one_line(&e);
        }
    }
});
