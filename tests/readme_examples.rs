//! The README's library examples are doc tests: each ```rust block of README.md is, line for
//! line, the example in the documentation of the module it shows, which `cargo test --doc`
//! compiles and runs. This test fails when the two copies differ, so neither can drift.

use std::path::Path;

/// The modules whose example the README shows, in the README's order.
const MODULES: [&str; 2] = ["src/protocol/connection/mod.rs", "src/protocol/observe.rs"];

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The ```rust blocks among `lines`, each as its lines between the fences.
fn rust_blocks<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<Vec<&'a str>> {
    let mut blocks = Vec::new();
    let mut open: Option<Vec<&str>> = None;
    for line in lines {
        match open.as_mut() {
            None if line == "```rust" => open = Some(Vec::new()),
            None => {}
            Some(_) if line == "```" => blocks.extend(open.take()),
            Some(block) => block.push(line),
        }
    }
    assert!(open.is_none(), "a ```rust block is not closed");
    blocks
}

/// A module's `//!` documentation, without the comment markers.
fn module_doc(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect()
}

#[test]
fn the_readme_library_examples_are_the_module_doc_tests() {
    let readme = read("README.md");
    let in_readme = rust_blocks(readme.lines());
    let sources: Vec<String> = MODULES.iter().map(|m| read(m)).collect();
    let in_modules: Vec<Vec<&str>> = sources
        .iter()
        .zip(MODULES)
        .map(|(source, module)| {
            let mut blocks = rust_blocks(module_doc(source).into_iter());
            assert_eq!(blocks.len(), 1, "{module} should have one example");
            blocks.remove(0)
        })
        .collect();
    assert_eq!(
        in_readme.len(),
        MODULES.len(),
        "README.md's ```rust blocks should be the examples of {MODULES:?}"
    );
    for ((readme_block, module_block), module) in in_readme.iter().zip(&in_modules).zip(MODULES) {
        assert!(
            module_block.iter().all(|line| !line.starts_with("# ")),
            "{module}'s example hides lines (`# `) that README.md cannot show"
        );
        let first_difference = (0..readme_block.len().max(module_block.len()))
            .find(|&i| readme_block.get(i) != module_block.get(i));
        if let Some(i) = first_difference {
            panic!(
                "README.md's copy of {module}'s example differs at its line {}:\n  README: {:?}\n  module: {:?}",
                i + 1,
                readme_block.get(i),
                module_block.get(i)
            );
        }
    }
}
