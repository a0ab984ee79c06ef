//! `public-api`: writes or checks `neatlogs/public-api.txt`, the listing of
//! the `neatlogs` crate's public API, and checks that the API names no
//! foreign type beyond those in `tools/public-api/known-foreign.txt`.
//!
//! ```text
//! cargo run -p neatlogs-public-api -- [--check] [--json FILE]
//! ```
//!
//! Without `--json`, it asks cargo for the crate's rustdoc JSON. That output
//! format is unstable, so the pinned stable toolchain's rustdoc is run with
//! `RUSTC_BOOTSTRAP=1`, and only rustdoc: cargo is pointed at this program
//! as its `RUSTDOC`, which runs the real rustdoc with that variable. Setting
//! it for the whole cargo run instead would change every crate's
//! fingerprint and rebuild them all beside the normal build.
//!
//! `scripts/public-api.sh` updates the listing; `.ci/run` checks it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use neatlogs_public_api::{diff, listing_lines, Listing};

/// Set (by this program) when cargo runs it as rustdoc.
const SHIM_VAR: &str = "NEATLOGS_PUBLIC_API_AS_RUSTDOC";
/// The rustdoc the shim runs.
const REAL_RUSTDOC_VAR: &str = "NEATLOGS_PUBLIC_API_RUSTDOC";

/// The listing of a package: `<package>/public-api.txt`.
fn listing_of(package: &str) -> String {
    format!("{package}/public-api.txt")
}
/// The foreign items the `neatlogs` crate's API may name; other packages
/// may name none.
const KNOWN_FOREIGN: &str = "tools/public-api/known-foreign.txt";
const UPDATE: &str = "bash scripts/public-api.sh";

const HEADER: &str = "\
The public API of the `{package}` crate (all features), one item per line.
Generated from rustdoc's JSON by tools/public-api: do not edit. After a change
to the API, run `bash scripts/public-api.sh` and review the diff; CI checks
that this file is current (`bash scripts/public-api.sh --check`).";

fn main() -> ExitCode {
    if std::env::var_os(SHIM_VAR).is_some() {
        return run_rustdoc();
    }
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("public-api: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Cargo's `RUSTDOC`: the real rustdoc, allowed its unstable JSON output.
fn run_rustdoc() -> ExitCode {
    let rustdoc = std::env::var_os(REAL_RUSTDOC_VAR).unwrap_or_else(|| "rustdoc".into());
    let status = Command::new(&rustdoc)
        .args(std::env::args_os().skip(1))
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove(SHIM_VAR)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("public-api: cannot run {}: {e}", rustdoc.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}

struct Args {
    check: bool,
    json: Option<PathBuf>,
    package: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        check: false,
        json: None,
        package: "neatlogs".to_owned(),
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--check") => args.check = true,
            Some("--package") => {
                let name = it.next().ok_or("--package needs a name")?;
                args.package = name.to_string_lossy().into_owned();
            }
            Some("--json") => {
                let file = it.next().ok_or("--json needs a file")?;
                args.json = Some(PathBuf::from(file));
            }
            Some("-h" | "--help") => {
                return Err(format!(
                    "usage: public-api [--check] [--package NAME] [--json FILE]\n\
                     Writes NAME/public-api.txt (NAME: neatlogs by default; or, with\n\
                     --check, fails unless it is current) and checks the API's foreign\n\
                     types against {KNOWN_FOREIGN} (neatlogs) or that there are none."
                ))
            }
            _ => return Err(format!("unknown argument {arg:?} (try --help)")),
        }
    }
    Ok(args)
}

fn run() -> Result<ExitCode, String> {
    let args = parse_args()?;
    let root = workspace_root();
    let json = match args.json {
        Some(json) => json,
        None => rustdoc_json(&root, &args.package)?,
    };
    let bytes = std::fs::read(&json).map_err(|e| format!("cannot read {}: {e}", json.display()))?;
    let krate = parse(&bytes, &json)?;
    let listing = Listing::of(&krate);
    let header = HEADER.replace("{package}", &args.package);
    let text = listing.to_text(&header);

    let listing_name = listing_of(&args.package);
    let listing_path = root.join(&listing_name);
    let mut ok = true;
    if args.check {
        let current = std::fs::read_to_string(&listing_path).unwrap_or_default();
        let (removed, added) = diff(&listing_lines(&current), &listing_lines(&text));
        if removed.is_empty() && added.is_empty() {
            println!(
                "public-api: {listing_name} is current ({} lines)",
                listing.lines.len()
            );
        } else {
            ok = false;
            eprintln!(
                "public-api: the public API differs from {listing_name} \
                 ({} line(s) gone, {} new):",
                removed.len(),
                added.len()
            );
            for line in &removed {
                eprintln!("- {line}");
            }
            for line in &added {
                eprintln!("+ {line}");
            }
            eprintln!(
                "public-api: if the change is intended, run `{UPDATE}` and commit {listing_name}"
            );
        }
    } else {
        std::fs::write(&listing_path, &text)
            .map_err(|e| format!("cannot write {}: {e}", listing_path.display()))?;
        println!(
            "public-api: wrote {listing_name} ({} lines)",
            listing.lines.len()
        );
    }
    ok &= check_foreign(&root, &listing, args.check, args.package == "neatlogs")?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reports the foreign items of the API; whether none is unknown and every
/// known one is still there (always true when only writing the listing,
/// which warns instead).
fn check_foreign(
    root: &Path,
    listing: &Listing,
    check: bool,
    with_known: bool,
) -> Result<bool, String> {
    let path = root.join(KNOWN_FOREIGN);
    let text = if with_known {
        std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
    } else {
        String::new()
    };
    let known: BTreeSet<&str> = listing_lines(&text).into_iter().map(str::trim).collect();
    let found: BTreeSet<&str> = listing.foreign.keys().map(String::as_str).collect();
    let unknown: Vec<&str> = found.difference(&known).copied().collect();
    let gone: Vec<&str> = known.difference(&found).copied().collect();
    println!(
        "public-api: {} foreign item(s) in the public API (allowed: std, core, alloc, serde's traits):",
        found.len()
    );
    for (item, lines) in &listing.foreign {
        let mark = if known.contains(item.as_str()) {
            "known"
        } else {
            "NEW"
        };
        println!(
            "  {mark:5} {item}  ({} line(s), e.g. `{}`)",
            lines.len(),
            lines[0]
        );
    }
    let (say, ok) = if check {
        ("error", unknown.is_empty() && gone.is_empty())
    } else {
        ("warning", true)
    };
    if !unknown.is_empty() {
        eprintln!(
            "public-api: {say}: foreign item(s) not in {KNOWN_FOREIGN}: {}\n\
             public-api: the API should not expose other crates' types: wrap or remove them \
             (listing one there is a deliberate exception)",
            unknown.join(", ")
        );
    }
    if !gone.is_empty() {
        eprintln!(
            "public-api: {say}: no longer in the API, remove from {KNOWN_FOREIGN}: {}",
            gone.join(", ")
        );
    }
    Ok(ok)
}

/// The repository root: this crate lives in `tools/public-api/`.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

/// Runs `cargo rustdoc` for the JSON and returns where it went.
fn rustdoc_json(root: &Path, package: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let real_rustdoc = std::env::var_os("RUSTDOC").unwrap_or_else(|| "rustdoc".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args([
            "rustdoc",
            "--quiet",
            "-p",
            package,
            "--lib",
            "--all-features",
            "--",
            "-Z",
            "unstable-options",
            "--output-format",
            "json",
        ])
        .env("RUSTDOC", &me)
        .env(SHIM_VAR, "1")
        .env(REAL_RUSTDOC_VAR, &real_rustdoc)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo rustdoc failed ({status})"));
    }
    let file = format!("{}.json", package.replace('-', "_"));
    Ok(target_dir(root, &cargo)?.join("doc").join(file))
}

/// Cargo's target directory (CARGO_TARGET_DIR, config, or ./target).
fn target_dir(root: &Path, cargo: &std::ffi::OsStr) -> Result<PathBuf, String> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        target_directory: PathBuf,
    }
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let metadata: Metadata = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("unexpected cargo metadata output: {e}"))?;
    Ok(metadata.target_directory)
}

/// The crate, after checking that this program reads its format version.
fn parse(bytes: &[u8], path: &Path) -> Result<rustdoc_types::Crate, String> {
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: u32,
    }
    let version: Version = serde_json::from_slice(bytes)
        .map_err(|e| format!("{} is not rustdoc JSON: {e}", path.display()))?;
    if version.format_version != rustdoc_types::FORMAT_VERSION {
        return Err(format!(
            "{} is rustdoc JSON format {}, this program reads format {}: set \
             `rustdoc-types = \"0.{}\"` in tools/public-api/Cargo.toml (its minor version \
             is the format version)",
            path.display(),
            version.format_version,
            rustdoc_types::FORMAT_VERSION,
            version.format_version
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
