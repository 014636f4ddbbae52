//! The built browser files' names. `scripts/build` (scripts/site.mjs) names them by
//! their content (`lixiao.3f9c….wasm`) and lists the hashes in `hash.txt`
//! beside the server binary: each deploy gets new names, so the files can be cached for a
//! year (`immutable`) and a phone never runs yesterday's bundle with today's pages.
//! Read once at start-up.

use leptos::prelude::LeptosOptions;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    /// `/pkg/lixiao.css`, or `/pkg/lixiao.<hash>.css`.
    pub css: String,
    pub js: String,
    pub wasm: String,
    /// Whether the names carry content hashes (then they never change meaning).
    pub hashed: bool,
    /// Leptos's island loader (`island_loader.js`) called with these names: the inline
    /// script every page carries (see `IslandScripts`), made once here.
    pub island_loader: String,
}

impl Assets {
    pub fn of(options: &LeptosOptions) -> Self {
        let hashes = options
            .hash_files
            .then(|| {
                let file = std::env::current_exe()
                    .ok()?
                    .parent()?
                    .join(&*options.hash_file);
                std::fs::read_to_string(file).ok()
            })
            .flatten()
            .unwrap_or_default();
        Self::from_hashes(options, &hashes)
    }

    /// The hashed files this build names that `site_root` does not have: a server whose
    /// `hash.txt` is from another build than its site, whose pages would load without
    /// their stylesheet and script. Unhashed names are not checked (a build without
    /// `hash.txt`, as the tests run the server).
    pub fn missing_in(&self, site_root: &std::path::Path) -> Vec<&str> {
        if !self.hashed {
            return Vec::new();
        }
        [&self.css, &self.js, &self.wasm]
            .into_iter()
            .filter(|name| !site_root.join(name.trim_start_matches('/')).is_file())
            .map(String::as_str)
            .collect()
    }

    /// The names given `hash.txt`'s lines (`js: …`, `wasm: …`, `css: …`; none: plain names).
    pub fn from_hashes(options: &LeptosOptions, hashes: &str) -> Self {
        let hash_of = |kind: &str| {
            hashes.lines().find_map(|line| {
                let (file, hash) = line.split_once(':')?;
                (file.trim() == kind).then(|| hash.trim().to_owned())
            })
        };
        let name = |kind: &str| {
            let base = format!("/{}/{}", options.site_pkg_dir, options.output_name);
            match hash_of(kind) {
                Some(hash) => format!("{base}.{hash}.{kind}"),
                None => format!("{base}.{kind}"),
            }
        };
        let (js, wasm) = (name("js"), name("wasm"));
        Assets {
            css: name("css"),
            island_loader: island_loader(&js, &wasm),
            js,
            wasm,
            hashed: ["css", "js", "wasm"]
                .iter()
                .all(|kind| hash_of(kind).is_some()),
        }
    }
}

/// The loader's call: it takes the directory and the names without their extensions.
fn island_loader(js: &str, wasm: &str) -> String {
    let split = |path: &str, extension: &str| {
        let (directory, file) = path.rsplit_once('/').unwrap_or(("", path));
        let stem = file.strip_suffix(extension).unwrap_or(file).to_owned();
        (directory.trim_start_matches('/').to_owned(), stem)
    };
    let (pkg, js_stem) = split(js, ".js");
    let (_, wasm_stem) = split(wasm, ".wasm");
    format!(
        "{}({:?}, {pkg:?}, {js_stem:?}, {wasm_stem:?}, false);",
        include_str!("island_loader.js"),
        ""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_file_from_another_build_is_noticed() {
        let options = LeptosOptions::builder().output_name("lixiao").build();
        let site = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(site.path().join("pkg")).expect("pkg/");
        for file in ["lixiao.abc.js", "lixiao.def.wasm", "lixiao.123.css"] {
            std::fs::write(site.path().join("pkg").join(file), "x").expect("a file");
        }
        let this_build = Assets::from_hashes(&options, "js: abc\nwasm: def\ncss: 123\n");
        assert!(this_build.missing_in(site.path()).is_empty());
        let another = Assets::from_hashes(&options, "js: abc\nwasm: old\ncss: 123\n");
        assert_eq!(another.missing_in(site.path()), ["/pkg/lixiao.old.wasm"]);
        // Without hash.txt nothing is claimed about the site.
        let plain = Assets::from_hashes(&options, "");
        assert!(plain.missing_in(site.path()).is_empty());
    }

    #[test]
    fn hashed_names_come_from_the_hash_file() {
        let options = LeptosOptions::builder().output_name("lixiao").build();
        let plain = Assets::from_hashes(&options, "");
        assert_eq!(plain.css, "/pkg/lixiao.css");
        assert!(!plain.hashed);
        let hashed = Assets::from_hashes(&options, "js: abc\nwasm: def\ncss: 123\n");
        assert_eq!(
            (
                hashed.js.as_str(),
                hashed.wasm.as_str(),
                hashed.css.as_str()
            ),
            (
                "/pkg/lixiao.abc.js",
                "/pkg/lixiao.def.wasm",
                "/pkg/lixiao.123.css"
            )
        );
        assert!(hashed.hashed);
        assert!(
            hashed
                .island_loader
                .ends_with(r#"("", "pkg", "lixiao.abc", "lixiao.def", false);"#),
            "{}",
            hashed.island_loader
        );
    }
}
