//! `customs-core-component`: the analysis core's WebAssembly component exports
//! (`core/wit/world.wit`), adapted onto `customs_core::api`.
//!
//! Deliberately logic-free: every call converts its arguments and forwards to the same
//! function the native engine calls, so the two engines cannot drift apart. It is a
//! crate of its own because the canonical-ABI glue that wit-bindgen generates is
//! `unsafe` by nature, while `customs-core` forbids unsafe code outright.
//! Only the wasm32 build has content; natively this crate is empty.
#![cfg(target_arch = "wasm32")]

use core::cell::RefCell;
use customs_core::{
    api,
    model::{EntryKind, EntryMeta},
};

wit_bindgen::generate!({
    path: "../wit",
    world: "customs-core",
});

use exports::customs::core::analysis::{self as wit, Guest, GuestLayer};

struct Component;

impl From<wit::EntryKind> for EntryKind {
    fn from(kind: wit::EntryKind) -> Self {
        match kind {
            wit::EntryKind::File => EntryKind::File,
            wit::EntryKind::Dir => EntryKind::Dir,
            wit::EntryKind::Symlink => EntryKind::Symlink,
            wit::EntryKind::Hardlink => EntryKind::Hardlink,
            wit::EntryKind::CharDevice => EntryKind::CharDevice,
            wit::EntryKind::BlockDevice => EntryKind::BlockDevice,
            wit::EntryKind::Fifo => EntryKind::Fifo,
            wit::EntryKind::Other => EntryKind::Other,
        }
    }
}

impl From<wit::Entry> for EntryMeta {
    fn from(e: wit::Entry) -> Self {
        EntryMeta {
            path: e.path,
            kind: e.kind.into(),
            size: e.size,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            link_target: e.link_target,
        }
    }
}

/// A layer session. Resource methods take `&self`; the instance is single-threaded,
/// so a `RefCell` is all the interior mutability needed.
struct Layer(RefCell<api::LayerSession>);

impl GuestLayer for Layer {
    fn new(diff_id: String) -> Self {
        Layer(RefCell::new(api::LayerSession::new(&diff_id)))
    }

    fn add_entries(&self, entries: Vec<wit::Entry>) -> Result<(), String> {
        let entries: Vec<EntryMeta> = entries.into_iter().map(EntryMeta::from).collect();
        self.0.borrow_mut().add_entries(&entries)
    }

    fn add_file(&self, path: String, content: Vec<u8>) -> Result<(), String> {
        self.0.borrow_mut().add_file(&path, &content)
    }

    fn finish(&self) -> Result<String, String> {
        self.0.borrow_mut().finish()
    }
}

impl Guest for Component {
    type Layer = Layer;

    fn interest() -> String {
        api::interest_json()
    }

    fn merge(image: String, layers: Vec<String>, options: String) -> Result<String, String> {
        api::merge_json(&image, &layers, &options)
    }

    fn match_vulnerabilities(
        report: String,
        records: Vec<String>,
        options: String,
    ) -> Result<String, String> {
        api::match_vulnerabilities_json(&report, &records, &options)
    }

    fn render(report: String, format: String) -> Result<String, String> {
        api::render(&report, &format)
    }
}

export!(Component);
