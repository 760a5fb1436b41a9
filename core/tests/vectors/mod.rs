//! The shared runner of the version-ordering vectors in `corpus/versions/` (format in
//! `versions/SOURCES.md`): locating the corpus, reading `a op b` files, and tallying
//! checks against a list of deliberate differences. Each `versions_*.rs` test uses it.
#![allow(dead_code)]
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub fn corpus() -> PathBuf {
    match std::env::var_os("CUSTOMS_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

/// The files of one vector folder, sorted.
pub fn files(eco: &str) -> Vec<PathBuf> {
    let dir = corpus().join("versions").join(eco);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no vector files in {}", dir.display());
    out
}

pub fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// A vector where our answer deliberately differs from the file: (file, line, reason).
pub type Deliberate = (&'static str, &'static str, &'static str);

/// The checks of one ecosystem's folder. Every listed deliberate difference must still
/// fail as listed, so the list cannot go stale.
pub struct Outcome {
    checks: usize,
    failures: Vec<String>,
    deliberate: &'static [Deliberate],
    deliberate_hit: BTreeSet<(String, String)>,
}

impl Outcome {
    pub fn new(deliberate: &'static [Deliberate]) -> Self {
        Outcome {
            checks: 0,
            failures: Vec::new(),
            deliberate,
            deliberate_hit: BTreeSet::new(),
        }
    }

    /// Records one check of `line` in `file`.
    pub fn check(&mut self, file: &str, line: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.checks += 1;
        let listed = self
            .deliberate
            .iter()
            .any(|(f, l, _)| *f == file && *l == line);
        match (ok, listed) {
            (true, false) => {}
            (false, true) => {
                self.deliberate_hit
                    .insert((file.to_string(), line.to_string()));
            }
            (true, true) => self.failures.push(format!(
                "{file}: `{line}` is listed as a deliberate difference but passes"
            )),
            (false, false) => self
                .failures
                .push(format!("{file}: `{line}`: {}", detail())),
        }
    }

    /// Fails on any unexpected failure, any deliberate difference not met, or fewer
    /// than `minimum` checks (an empty or truncated corpus).
    pub fn finish(self, eco: &str, minimum: usize) {
        let missed: Vec<_> = self
            .deliberate
            .iter()
            .filter(|(f, l, _)| {
                files(eco).iter().any(|p| name(p) == *f)
                    && !self
                        .deliberate_hit
                        .contains(&(f.to_string(), l.to_string()))
            })
            .collect();
        assert!(
            missed.is_empty(),
            "deliberate differences never met: {missed:?}"
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} {eco} checks failed:\n{}",
            self.failures.len(),
            self.checks,
            self.failures.join("\n")
        );
        assert!(
            self.checks >= minimum,
            "only {} {eco} checks ran, expected at least {minimum}",
            self.checks
        );
        eprintln!("{eco}: {} checks passed", self.checks);
    }
}

pub fn op_ordering(op: &str) -> Option<Ordering> {
    match op {
        "<" => Some(Ordering::Less),
        "=" => Some(Ordering::Equal),
        ">" => Some(Ordering::Greater),
        _ => None,
    }
}

/// The content lines of a vector file: blank lines and `#` / `//` comments removed,
/// and a trailing `# comment` after the fields dropped.
pub fn content_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| match l.find("\t#").or_else(|| l.find(" #")) {
            Some(i) => l[..i].trim().to_string(),
            None => l.trim().to_string(),
        })
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .collect()
}

/// Runs an `a op b` file with `cmp`, checking both directions.
pub fn run_pairs(out: &mut Outcome, path: &Path, cmp: fn(&str, &str) -> Ordering) {
    let file = name(path);
    for line in content_lines(path) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = fields[..] else {
            panic!("{file}: malformed line `{line}`")
        };
        let want =
            op_ordering(op).unwrap_or_else(|| panic!("{file}: unknown operator in `{line}`"));
        let (got, back) = (cmp(a, b), cmp(b, a));
        out.check(&file, &line, got == want && back == want.reverse(), || {
            format!("got {got:?} (reverse {back:?}), want {want:?}")
        });
    }
}

/// Runs a folder whose files are all `a op b` lists (`*.txt`) with `cmp`: any other
/// file fails ("no runner"), so a new kind of vector cannot be skipped silently; fewer
/// than `minimum` checks fail too.
pub fn run_pair_folder(
    folder: &str,
    deliberate: &'static [Deliberate],
    cmp: fn(&str, &str) -> Ordering,
    minimum: usize,
) {
    let mut out = Outcome::new(deliberate);
    for path in files(folder) {
        match path.extension().and_then(|e| e.to_str()) {
            Some("txt") => run_pairs(&mut out, &path, cmp),
            _ => panic!("no runner for {}", path.display()),
        }
    }
    out.finish(folder, minimum);
}

/// A fixed-seed xorshift generator for the property tests: every run sees the same
/// cases, so a failure reproduces.
pub struct Rng(u64);

impl Rng {
    /// The seed every property test starts from unless it needs a second stream.
    pub fn new() -> Self {
        Rng::seeded(0x9e37_79b9_7f4a_7c15)
    }

    pub fn seeded(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    /// Up to seven pieces of `alphabet`, joined.
    pub fn string_from(&mut self, alphabet: &[&str]) -> String {
        let pieces = self.next() % 8;
        (0..pieces).map(|_| self.pick(alphabet)).collect()
    }
}

/// `cmp` on one triple: reflexive, antisymmetric, and transitive both ways (`a ≤ b ≤ c`
/// implies `a ≤ c`, `a ≥ b ≥ c` implies `a ≥ c`, equal only when both steps are).
pub fn assert_total_on_triple(cmp: impl Fn(&str, &str) -> Ordering, a: &str, b: &str, c: &str) {
    for v in [a, b, c] {
        assert_eq!(cmp(v, v), Ordering::Equal, "{v:?} is not equal to itself");
    }
    let (ab, bc, ac) = (cmp(a, b), cmp(b, c), cmp(a, c));
    assert_eq!(ab, cmp(b, a).reverse(), "{a:?} vs {b:?}");
    for direction in [Ordering::Less, Ordering::Greater] {
        if ab != direction.reverse() && bc != direction.reverse() {
            let want = if ab == Ordering::Equal && bc == Ordering::Equal {
                Ordering::Equal
            } else {
                direction
            };
            assert_eq!(
                ac, want,
                "{a:?} {ab:?} {b:?} {bc:?} {c:?}, but {a:?} {ac:?} {c:?}"
            );
        }
    }
}

/// After sorting by `cmp`, no pair is out of order (transitivity over many chains).
pub fn assert_sorted(cmp: impl Fn(&str, &str) -> Ordering, sorted: &[String]) {
    for (i, a) in sorted.iter().enumerate() {
        for b in &sorted[i + 1..] {
            assert_ne!(cmp(a, b), Ordering::Greater, "{a:?} sorted before {b:?}");
        }
    }
}

/// Transitivity on every triple of `pool`: `a ≤ b ≤ c` implies `a ≤ c`, strictly
/// unless both steps are equal.
pub fn assert_total_on_pool(cmp: impl Fn(&str, &str) -> Ordering, pool: &[String]) {
    let m: Vec<Vec<Ordering>> = pool
        .iter()
        .map(|a| pool.iter().map(|b| cmp(a, b)).collect())
        .collect();
    let n = pool.len();
    for i in 0..n {
        for j in (0..n).filter(|&j| m[i][j] != Ordering::Greater) {
            for k in (0..n).filter(|&k| m[j][k] != Ordering::Greater) {
                let want = if m[i][j] == Ordering::Equal && m[j][k] == Ordering::Equal {
                    Ordering::Equal
                } else {
                    Ordering::Less
                };
                assert_eq!(
                    m[i][k], want,
                    "{:?} vs {:?} vs {:?}",
                    pool[i], pool[j], pool[k]
                );
            }
        }
    }
}
