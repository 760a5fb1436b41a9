//! Progress reporting on stderr: an indicatif bar on a terminal, plain lines in CI
//! logs (where a redrawn bar would be noise), or nothing.
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::{io::IsTerminal, sync::OnceLock};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    Bar,
    Lines,
    Quiet,
}

impl ProgressMode {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn auto() -> Self {
        if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        }
    }
}

/// Thread-safe progress sink shared by the layer workers.
pub struct Progress {
    mode: ProgressMode,
    /// Installed once when layer analysis starts, then only read by the workers.
    bar: OnceLock<ProgressBar>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        Progress {
            mode,
            bar: OnceLock::new(),
        }
    }

    /// A progress sink that prints nothing (library use, tests).
    pub fn quiet() -> Self {
        Progress::new(ProgressMode::Quiet)
    }

    /// A one-line status message.
    pub fn message(&self, msg: &str) {
        match (self.bar.get(), self.mode) {
            (Some(bar), _) => bar.println(format!("customs: {msg}")),
            (None, ProgressMode::Quiet) => {}
            (None, _) => eprintln!("customs: {msg}"),
        }
    }

    /// Announces layer analysis; `total_bytes` is the stored size of all layers.
    pub fn start_layers(&self, layers: usize, total_bytes: u64) {
        match self.mode {
            ProgressMode::Bar => {
                let bar =
                    ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(
                    "{spinner} analyzing {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_message(format!("{layers} layers"));
                let _ = self.bar.set(bar);
            }
            ProgressMode::Lines => {
                eprintln!("customs: analyzing {layers} layers ({total_bytes} bytes stored)")
            }
            ProgressMode::Quiet => {}
        }
    }

    /// Counts stored (compressed) bytes read.
    pub fn add_bytes(&self, n: u64) {
        if let Some(bar) = self.bar.get() {
            bar.inc(n);
        }
    }

    /// One layer finished.
    pub fn layer_done(&self, index: usize, diff_id: &str, entries: usize) {
        if self.mode == ProgressMode::Lines {
            eprintln!("customs: layer {index} {diff_id}: {entries} entries analyzed");
        }
    }

    /// One layer's facts came from the cache; `stored_size` counts as read.
    pub fn layer_cached(&self, index: usize, diff_id: &str, stored_size: u64) {
        self.add_bytes(stored_size);
        if self.mode == ProgressMode::Lines {
            eprintln!("customs: layer {index} {diff_id}: cached");
        }
    }

    /// All layers finished.
    pub fn finish_layers(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
