//! The README's integration snippets are compiled code: each code block
//! after a `<!-- compiled: examples/FILE.rs#NAME -->` line must be, line for
//! line, the region between `// README NAME: begin` and `// README NAME: end`
//! of that example (its indentation removed), and the examples are built by
//! `cargo test`.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The lines of `text` with their common leading whitespace removed.
fn dedent(lines: &[&str]) -> Vec<String> {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end().to_owned())
        .collect()
}

fn region(file: &str, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    let begin = format!("// README {name}: begin");
    let end = format!("// README {name}: end");
    let start = lines
        .iter()
        .position(|l| l.trim() == begin)
        .unwrap_or_else(|| panic!("{file} has no `{begin}`"));
    let stop = lines[start..]
        .iter()
        .position(|l| l.trim() == end)
        .unwrap_or_else(|| panic!("{file} has no `{end}`"))
        + start;
    dedent(&lines[start + 1..stop])
}

#[test]
fn every_marked_readme_snippet_is_its_examples_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(spec) = line
            .trim()
            .strip_prefix("<!-- compiled: ")
            .and_then(|s| s.strip_suffix(" -->"))
        else {
            continue;
        };
        let (file, name) = spec.split_once('#').expect("FILE#NAME");
        assert_eq!(
            lines.get(i + 1).map(|l| l.trim()),
            Some("```rust"),
            "README line {}: a ```rust block must follow the marker",
            i + 1
        );
        let len = lines[i + 2..]
            .iter()
            .position(|l| l.trim() == "```")
            .expect("the block ends");
        let block = dedent(&lines[i + 2..i + 2 + len]);
        assert_eq!(
            block,
            region(file, name),
            "README line {}: the snippet differs from {file} `{name}`",
            i + 1
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} marked snippets in the README");
}
