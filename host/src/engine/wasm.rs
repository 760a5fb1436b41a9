//! The core inside wasmtime: the default engine.
//!
//! The core is embedded as a WebAssembly component (built by `build.rs` from
//! `core/wit/world.wit`). It imports nothing, so no WASI or any other host function is
//! linked: code in the sandbox can reach no filesystem, network, clock or environment.
//! What it can still do is burn memory and CPU, so every store gets a memory cap
//! ([`Limits::memory_bytes`]) and every call a deadline ([`Limits::call_timeout_ms`]),
//! enforced by epoch interruption driven by a ticker thread.
//!
//! Compiling the component takes a noticeable fraction of a second, so the compiled
//! artifact is cached on disk (see [`default_cache_dir`]) and memory-mapped on later
//! runs. Each layer session and each merge/render call instantiates the component
//! afresh in its own store, from an [`InstancePre`](wasmtime::component::InstancePre)
//! that did the import resolution once: a hostile layer cannot leave state behind
//! that influences the analysis of another.
use super::{Engine, EngineError, LayerSession, Limits};
use customs_core::model::{EntryKind, EntryMeta};
use sha2::{Digest, Sha256};
use std::{
    fs,
    hash::{Hash, Hasher},
    io::Write,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{self, RecvTimeoutError},
    },
    thread,
    time::Duration,
};
use wasmtime::{
    Config, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap,
    component::{Component, Linker, ResourceAny},
};

wasmtime::component::bindgen!({
    path: "../core/wit",
    world: "customs-core",
});

use exports::customs::core::analysis as wit;

/// The component `build.rs` produced.
static COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/customs_core.component.wasm"));

/// How often the ticker advances the engine's epoch. Deadlines are rounded up to it.
const TICK: Duration = Duration::from_millis(10);

/// Function tables the core may grow to. The component's own table is fixed-size;
/// this only bounds what a misbehaving guest could request.
const TABLE_ELEMENTS_LIMIT: usize = 100_000;

/// Where the compiled component came from when the engine was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentSource {
    /// Loaded from this file of the compilation cache.
    Cache(PathBuf),
    /// Compiled now; `stored` is the cache file written, if caching was possible.
    Compiled { stored: Option<PathBuf> },
}

/// Runs the core as a component inside wasmtime.
pub struct WasmEngine {
    engine: wasmtime::Engine,
    pre: CustomsCorePre<StoreState>,
    limits: Limits,
    source: ComponentSource,
    ticker: Arc<Ticker>,
}

impl WasmEngine {
    /// Creates the engine, with the compiled component cached in [`default_cache_dir`].
    pub fn new(limits: Limits) -> Result<Self, EngineError> {
        Self::with_cache_dir(limits, default_cache_dir().as_deref())
    }

    /// Creates the engine; `cache_dir` (when given) holds compiled components.
    pub fn with_cache_dir(limits: Limits, cache_dir: Option<&Path>) -> Result<Self, EngineError> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine =
            wasmtime::Engine::new(&config).map_err(|e| setup("configuring wasmtime", &e))?;
        let (component, source) = load_component(&engine, cache_dir)?;
        let linker = Linker::<StoreState>::new(&engine);
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| setup("resolving the core component's imports", &e))?;
        let pre = CustomsCorePre::new(instance_pre)
            .map_err(|e| setup("checking the core component's exports", &e))?;
        let ticker = Arc::new(Ticker::start(engine.clone())?);
        Ok(WasmEngine {
            engine,
            pre,
            limits,
            source,
            ticker,
        })
    }

    /// Where the compiled component came from.
    pub fn source(&self) -> &ComponentSource {
        &self.source
    }

    /// Size of the embedded component, in bytes.
    pub fn component_size() -> usize {
        COMPONENT.len()
    }

    /// A fresh store and instance, with this engine's limits.
    fn instantiate(&self, during: &str) -> Result<Instance, EngineError> {
        let state = StoreState::new(self.limits.memory_bytes);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        let mut instance = Instance {
            store,
            bindings: None,
            limits: self.limits,
            _ticker: Arc::clone(&self.ticker),
        };
        instance.arm();
        let bindings = match self.pre.instantiate(&mut instance.store) {
            Ok(b) => b,
            Err(e) => return Err(instance.error(during, e)),
        };
        instance.bindings = Some(bindings);
        Ok(instance)
    }
}

/// Per-store state: only the resource limiter (no WASI context: nothing is linked).
struct StoreState {
    limiter: Limiter,
}

impl StoreState {
    fn new(memory_bytes: usize) -> Self {
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            .table_elements(TABLE_ELEMENTS_LIMIT)
            .trap_on_grow_failure(true)
            .build();
        StoreState {
            limiter: Limiter {
                inner: limits,
                memory_bytes,
                exceeded: false,
            },
        }
    }
}

/// [`StoreLimits`] that also remembers whether the memory cap was hit, so that the
/// resulting trap is reported as [`EngineError::MemoryLimit`] rather than a crash.
struct Limiter {
    inner: StoreLimits,
    memory_bytes: usize,
    exceeded: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.exceeded = true;
        }
        self.inner.memory_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// One instantiated core with its store.
struct Instance {
    store: Store<StoreState>,
    /// `None` only while instantiating.
    bindings: Option<CustomsCore>,
    limits: Limits,
    /// Keeps the epoch ticker running while this instance may still be called.
    _ticker: Arc<Ticker>,
}

impl Instance {
    /// Starts the deadline of the next call: the timeout rounded up to whole ticks,
    /// plus one because the current tick may be about to end.
    fn arm(&mut self) {
        let tick_ms = TICK.as_millis().max(1) as u64;
        let ticks = self
            .limits
            .call_timeout_ms
            .div_ceil(tick_ms)
            .saturating_add(1);
        self.store.set_epoch_deadline(ticks);
    }

    /// Maps an error of a call into the core to the engine's error.
    fn error(&self, during: &str, err: wasmtime::Error) -> EngineError {
        let during = during.to_string();
        if self.store.data().limiter.exceeded {
            return EngineError::MemoryLimit {
                limit_mib: self.limits.memory_bytes >> 20,
                during,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => EngineError::Timeout {
                limit_ms: self.limits.call_timeout_ms,
                during,
            },
            Some(trap) => EngineError::Trap {
                during,
                reason: trap.to_string(),
            },
            None => EngineError::Trap {
                during,
                reason: one_line(&err),
            },
        }
    }

    /// Runs one call into the core with a fresh deadline and maps its outcome.
    fn call<T>(
        &mut self,
        during: impl FnOnce() -> String,
        f: impl FnOnce(&wit::Guest, &mut Store<StoreState>) -> wasmtime::Result<Result<T, String>>,
    ) -> Result<T, EngineError> {
        self.arm();
        let bindings = self
            .bindings
            .as_ref()
            .expect("instance bindings are set after instantiation");
        match f(bindings.customs_core_analysis(), &mut self.store) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(msg)) => Err(EngineError::Analysis(msg)),
            Err(e) => Err(self.error(&during(), e)),
        }
    }
}

fn one_line(err: &wasmtime::Error) -> String {
    format!("{err:#}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn setup(what: &str, err: &wasmtime::Error) -> EngineError {
    EngineError::Setup(format!("{what}: {}", one_line(err)))
}

/// A thread that advances the engine's epoch every [`TICK`], which is what makes
/// deadlines fire. It stops when the last owner (the engine or a live session) drops
/// its handle, which disconnects the channel it waits on.
struct Ticker {
    _stop: mpsc::Sender<()>,
}

impl Ticker {
    fn start(engine: wasmtime::Engine) -> Result<Self, EngineError> {
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("customs-wasm-epoch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| EngineError::Setup(format!("starting the wasm deadline thread: {e}")))?;
        Ok(Ticker { _stop: stop })
    }
}

impl Engine for WasmEngine {
    fn interest_json(&self) -> Result<String, EngineError> {
        let mut instance = self.instantiate("starting the core")?;
        instance.call(
            || "reporting its interest".into(),
            |g, s| g.call_interest(s).map(Ok),
        )
    }

    fn layer(&self, diff_id: &str) -> Result<Box<dyn LayerSession>, EngineError> {
        let mut instance = self.instantiate(&format!("starting layer {diff_id}"))?;
        let layer = instance.call(
            || format!("starting layer {diff_id}"),
            |g, s| g.layer().call_constructor(s, diff_id).map(Ok),
        )?;
        Ok(Box::new(WasmSession {
            instance,
            layer,
            diff_id: diff_id.to_string(),
        }))
    }

    fn merge(
        &self,
        image_json: &str,
        layers_json: &[String],
        options_json: &str,
    ) -> Result<String, EngineError> {
        let mut instance = self.instantiate("starting the merge")?;
        instance.call(
            || "merging the layers".into(),
            |g, s| g.call_merge(s, image_json, layers_json, options_json),
        )
    }

    fn match_vulnerabilities(
        &self,
        report_json: &str,
        records_json: &[String],
        options_json: &str,
    ) -> Result<String, EngineError> {
        let mut instance = self.instantiate("starting the vulnerability matcher")?;
        instance.call(
            || "matching vulnerabilities".into(),
            |g, s| g.call_match_vulnerabilities(s, report_json, records_json, options_json),
        )
    }

    fn render(&self, report_json: &str, format: &str) -> Result<String, EngineError> {
        let mut instance = self.instantiate("starting the renderer")?;
        instance.call(
            || format!("rendering the report as {format}"),
            |g, s| g.call_render(s, report_json, format),
        )
    }
}

/// One layer's session: an instance of its own holding a `layer` resource.
struct WasmSession {
    instance: Instance,
    layer: ResourceAny,
    diff_id: String,
}

impl LayerSession for WasmSession {
    fn add_entries(&mut self, entries: &[EntryMeta]) -> Result<(), EngineError> {
        let entries: Vec<wit::Entry> = entries.iter().map(to_wit_entry).collect();
        let (layer, diff_id) = (self.layer, &self.diff_id);
        self.instance.call(
            || format!("reading the entries of layer {diff_id}"),
            |g, s| g.layer().call_add_entries(s, layer, &entries),
        )
    }

    fn add_file(&mut self, path: &str, content: &[u8]) -> Result<(), EngineError> {
        let (layer, diff_id) = (self.layer, &self.diff_id);
        self.instance.call(
            || format!("analyzing {path} of layer {diff_id}"),
            |g, s| g.layer().call_add_file(s, layer, path, content),
        )
    }

    fn finish(mut self: Box<Self>) -> Result<String, EngineError> {
        let (layer, diff_id) = (self.layer, &self.diff_id);
        // Returning drops the session and its store, with the instance and the
        // resource in it: no guest code runs after `finish`.
        self.instance.call(
            || format!("finishing layer {diff_id}"),
            |g, s| g.layer().call_finish(s, layer),
        )
    }
}

fn to_wit_entry(e: &EntryMeta) -> wit::Entry {
    wit::Entry {
        path: e.path.clone(),
        kind: match e.kind {
            EntryKind::File => wit::EntryKind::File,
            EntryKind::Dir => wit::EntryKind::Dir,
            EntryKind::Symlink => wit::EntryKind::Symlink,
            EntryKind::Hardlink => wit::EntryKind::Hardlink,
            EntryKind::CharDevice => wit::EntryKind::CharDevice,
            EntryKind::BlockDevice => wit::EntryKind::BlockDevice,
            EntryKind::Fifo => wit::EntryKind::Fifo,
            EntryKind::Other => wit::EntryKind::Other,
        },
        size: e.size,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        link_target: e.link_target.clone(),
    }
}

/// The directory of compiled components: `wasm/` in the program's cache directory
/// ([`crate::cache::default_dir`]), beside the layer-facts cache.
pub fn default_cache_dir() -> Option<PathBuf> {
    crate::cache::default_dir().map(|d| d.join("wasm"))
}

/// Feeds `Hash` output into SHA-256, to fold wasmtime's compatibility hash (which is
/// only available as `impl Hash`) into a stable cache key.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        0 // unused: the digest is read from the inner state
    }
}

/// The cache file name: a function of everything that decides the compiled code.
fn cache_file_name(engine: &wasmtime::Engine) -> String {
    let mut h = Sha256Hasher(Sha256::new());
    h.write(COMPONENT);
    h.write(env!("CUSTOMS_WASMTIME_VERSION").as_bytes());
    h.write(std::env::consts::ARCH.as_bytes());
    h.write(std::env::consts::OS.as_bytes());
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("customs-core-{}.cwasm", hex::encode(h.0.finalize()))
}

/// Loads the compiled component from the cache, or compiles it (and caches it).
fn load_component(
    engine: &wasmtime::Engine,
    cache_dir: Option<&Path>,
) -> Result<(Component, ComponentSource), EngineError> {
    let Some(dir) = cache_dir else {
        let component = Component::new(engine, COMPONENT)
            .map_err(|e| setup("compiling the core component", &e))?;
        return Ok((component, ComponentSource::Compiled { stored: None }));
    };
    let path = dir.join(cache_file_name(engine));
    if path.is_file() {
        // SAFETY: `deserialize_file` runs the file's machine code without checking it,
        // so it must hold what `Engine::precompile_component` produced. It does: the
        // file is only ever written by `store_atomically` below with the output of
        // `precompile_component`, complete (written to a temporary file, synced, then
        // renamed into place, so a crash never leaves a partial file under this name),
        // and its name is the SHA-256 of the component bytes, the wasmtime version,
        // the target and the engine's compatibility hash, so it cannot be an artifact
        // of another component or an incompatible engine. The directory belongs to
        // the user running us; whoever can write there can already replace this
        // program. The file is mapped, not copied, so it must not change while
        // mapped: we never modify it in place, only replace it by a rename, which
        // leaves existing mappings on the old inode. wasmtime also checks the
        // artifact's header and version and fails (handled below) rather than
        // loading a foreign file.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, ComponentSource::Cache(path))),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring unusable compiled component: {}", one_line(&e))
            }
        }
    }
    let compiled = engine
        .precompile_component(COMPONENT)
        .map_err(|e| setup("compiling the core component", &e))?;
    // SAFETY: `compiled` was produced a moment ago by `precompile_component` of this
    // very engine, in memory; nothing else could have modified it.
    let component = unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| setup("loading the compiled core component", &e))?;
    let stored = match store_atomically(dir, &path, &compiled) {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot cache the compiled component: {e}");
            None
        }
    };
    Ok((component, ComponentSource::Compiled { stored }))
}

/// Writes `bytes` to `path` so that readers see either no file or the complete one.
fn store_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    // Unique among processes (pid) and among engines created concurrently in this one.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{seq}.cwasm", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    let result = write();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
