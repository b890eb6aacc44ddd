//! Fixture declarations: the `[[fixture]]` tables of an adapter file.
//!
//! A fixture is pinned input for a harden job (blocks to replay, a snapshot, a
//! data directory, a fuzz corpus, a previous release). This module owns the
//! declaration and its validation only; fetching, verifying and unpacking are
//! IO and live in `ironworks-cache`.
//!
//! ```toml
//! [[fixture]]
//! id = "regtest-blocks-0-1000"
//! kind = "blocks"
//! urls = ["https://example.org/blocks.tar.zst", "file:fixtures/blocks.tar.zst"]
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! size = 123456
//! format = "tar.zst"
//! [fixture.expect]
//! "/tip/height" = 1000
//! ```
//!
//! A relative `file:` URL (`file:fixtures/x.tar`, no `//`) names a path
//! relative to the directory of the adapter file; the fetcher resolves it
//! there. It may not climb out of that directory with `..`; use an absolute
//! `file:///...` URL for files elsewhere.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics};

/// What a fixture holds, which tells harden jobs how to use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FixtureKind {
    Blocks,
    Snapshot,
    Datadir,
    FuzzCorpus,
    PreviousRelease,
}

impl FixtureKind {
    pub const ALL: [FixtureKind; 5] = [
        FixtureKind::Blocks,
        FixtureKind::Snapshot,
        FixtureKind::Datadir,
        FixtureKind::FuzzCorpus,
        FixtureKind::PreviousRelease,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FixtureKind::Blocks => "blocks",
            FixtureKind::Snapshot => "snapshot",
            FixtureKind::Datadir => "datadir",
            FixtureKind::FuzzCorpus => "fuzz-corpus",
            FixtureKind::PreviousRelease => "previous-release",
        }
    }

    pub fn parse(text: &str) -> Option<FixtureKind> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// How the fetched file is laid out in a run's directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FixtureFormat {
    /// A tar archive, unpacked.
    Tar,
    /// A zstd-compressed tar archive, unpacked.
    TarZst,
    /// One file, copied as is.
    Plain,
}

impl FixtureFormat {
    pub const ALL: [FixtureFormat; 3] = [
        FixtureFormat::Tar,
        FixtureFormat::TarZst,
        FixtureFormat::Plain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FixtureFormat::Tar => "tar",
            FixtureFormat::TarZst => "tar.zst",
            FixtureFormat::Plain => "plain",
        }
    }

    pub fn parse(text: &str) -> Option<FixtureFormat> {
        Self::ALL.into_iter().find(|format| format.as_str() == text)
    }
}

/// One validated fixture declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub id: String,
    pub kind: FixtureKind,
    /// Sources in the order they are tried; at least one.
    pub urls: Vec<String>,
    /// 64 lowercase hex digits.
    pub sha256: String,
    /// Size in bytes of the fetched file (before unpacking); > 0.
    pub size: u64,
    pub format: FixtureFormat,
    /// JSON pointer (RFC 6901) into the job's results → expected value.
    pub expect: BTreeMap<String, serde_json::Value>,
}

impl Fixture {
    /// The name a `plain` fixture gets in its run directory: the last path
    /// segment of its first URL. Validation guarantees it is a plain file name.
    pub fn file_name(&self) -> &str {
        self.urls
            .first()
            .and_then(|url| last_segment(url))
            .unwrap_or(&self.id)
    }
}

/// Where a fixture URL points, as the fetcher needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixtureSource {
    /// A local path. `relative` paths are resolved against the adapter's
    /// directory.
    File { path: String, relative: bool },
    /// An `http://` or `https://` URL, unchanged.
    Http(String),
}

/// Classify a fixture URL, or say what is wrong with it.
pub fn parse_source(url: &str) -> Result<FixtureSource, String> {
    if let Some(rest) = url.strip_prefix("file:") {
        if let Some(after) = rest.strip_prefix("//") {
            // file://host/path: only an empty host or localhost is this machine.
            let slash = after.find('/').ok_or_else(|| {
                format!("`{url}` has no path: write file:///absolute/path or file:relative/path")
            })?;
            let (host, path) = after.split_at(slash);
            if !(host.is_empty() || host == "localhost") {
                return Err(format!(
                    "`{url}` names host `{host}`; file URLs must be local (file:///path)"
                ));
            }
            if path.len() <= 1 {
                return Err(format!("`{url}` has an empty path"));
            }
            return Ok(FixtureSource::File {
                path: path.to_owned(),
                relative: false,
            });
        }
        if rest.starts_with('/') {
            return Ok(FixtureSource::File {
                path: rest.to_owned(),
                relative: false,
            });
        }
        if rest.is_empty() {
            return Err(format!("`{url}` has an empty path"));
        }
        if rest.split('/').any(|part| part == "..") {
            return Err(format!(
                "relative file URL `{url}` climbs out of the adapter's directory with `..`; use file:///absolute/path"
            ));
        }
        if rest.contains('\0') {
            return Err(format!("`{url}` contains a NUL byte"));
        }
        return Ok(FixtureSource::File {
            path: rest.to_owned(),
            relative: true,
        });
    }
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            let rest = &url[scheme.len() + 3..];
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            if host.is_empty() {
                return Err(format!("`{url}` has no host"));
            }
            if url.chars().any(char::is_whitespace) {
                return Err(format!("`{url}` contains whitespace"));
            }
            Ok(FixtureSource::Http(url.to_owned()))
        }
        _ => Err(format!(
            "`{url}` has an unsupported scheme: expected file:, http:// or https://"
        )),
    }
}

/// The last non-empty path segment of a URL, without query or fragment.
fn last_segment(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => path.strip_prefix("file:").unwrap_or(path),
    };
    path.rsplit('/')
        .next()
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
}

/// Parse and validate the `[[fixture]]` array of an adapter file. Every other
/// top-level key is ignored (the adapter parser owns them); unknown keys
/// inside a fixture are errors. `file` names the file in messages.
pub fn parse_fixtures(file: &str, source: &str) -> Result<Vec<Fixture>, Diagnostics> {
    let raw: RawFixtures = toml::from_str(source).map_err(|err| {
        Diagnostics(vec![Diagnostic::at(
            file,
            source,
            err.span(),
            err.message().trim_end().to_owned(),
        )])
    })?;
    let mut problems = Problems {
        file,
        source,
        list: Vec::new(),
    };
    let mut fixtures = Vec::with_capacity(raw.fixture.len());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for spanned in raw.fixture {
        let table_span = spanned.span();
        let raw = spanned.into_inner();

        let id = raw.id.get_ref().clone();
        // Ids name cache entries and run directories: the adapter's name rule.
        if let Err(why) = crate::adapter::check_name(&id) {
            problems.error(raw.id.span(), format!("invalid fixture id: {why}"));
        }
        if let Some(first) = seen.get(&id) {
            let (line, _) = crate::diagnostic::line_column(source, *first);
            problems
                .error(raw.id.span(), format!("duplicate fixture id `{id}`"))
                .help = Some(format!(
                "the first fixture with this id is at line {line}; fixture ids must be unique"
            ));
        } else {
            seen.insert(id.clone(), table_span.start);
        }

        let kind = FixtureKind::parse(raw.kind.get_ref());
        if kind.is_none() {
            problems
                .error(
                    raw.kind.span(),
                    format!("unknown fixture kind `{}`", raw.kind.get_ref()),
                )
                .help = Some(format!("expected one of: {}", kind_names()));
        }

        let format = FixtureFormat::parse(raw.format.get_ref());
        if format.is_none() {
            problems
                .error(
                    raw.format.span(),
                    format!("unknown fixture format `{}`", raw.format.get_ref()),
                )
                .help = Some("expected one of: tar, tar.zst, plain".into());
        }

        let urls: Vec<Spanned<String>> = match (raw.url, raw.urls) {
            (Some(url), None) => vec![url],
            (None, Some(urls)) => {
                if urls.get_ref().is_empty() {
                    problems.error(
                        urls.span(),
                        "`urls` is empty: a fixture needs at least one source".into(),
                    );
                }
                urls.into_inner()
            }
            (Some(url), Some(_)) => {
                problems.error(url.span(), "set either `url` or `urls`, not both".into());
                vec![url]
            }
            (None, None) => {
                problems.error(
                    table_span.clone(),
                    format!("fixture `{id}` has no source: set `urls = [\"https://...\"]`"),
                );
                Vec::new()
            }
        };
        for url in &urls {
            if let Err(why) = parse_source(url.get_ref()) {
                problems
                    .error(url.span(), format!("invalid fixture url: {why}"))
                    .help = Some(
                    "a relative `file:dir/name` is resolved against the adapter's directory".into(),
                );
            }
        }
        if format == Some(FixtureFormat::Plain)
            && let Some(first) = urls.first()
            && last_segment(first.get_ref()).is_none()
        {
            problems.error(
                first.span(),
                format!(
                    "`{}` does not end in a file name, which a plain fixture is stored under",
                    first.get_ref()
                ),
            );
        }

        let digest = raw.sha256.get_ref();
        if digest.len() != 64
            || !digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            problems
                .error(
                    raw.sha256.span(),
                    format!("`sha256` must be 64 lowercase hex digits, got `{digest}`"),
                )
                .help = Some("compute it with `sha256sum FILE`".into());
        }

        let size = *raw.size.get_ref();
        if size <= 0 {
            problems.error(
                raw.size.span(),
                format!("`size` must be a positive number of bytes, got {size}"),
            );
        }

        let mut expect = BTreeMap::new();
        for (pointer, value) in raw.expect {
            if let Err(why) = check_pointer(pointer.get_ref()) {
                problems
                    .error(
                        pointer.span(),
                        format!("invalid expect key `{}`: {why}", pointer.get_ref()),
                    )
                    .help = Some(
                    "keys are JSON pointers into the job's results, e.g. \"/tip/height\"".into(),
                );
            }
            expect.insert(pointer.into_inner(), value);
        }

        if let (Some(kind), Some(format)) = (kind, format) {
            fixtures.push(Fixture {
                id,
                kind,
                urls: urls.into_iter().map(Spanned::into_inner).collect(),
                sha256: raw.sha256.into_inner(),
                size: size.max(0) as u64,
                format,
                expect,
            });
        }
    }
    if problems.list.is_empty() {
        Ok(fixtures)
    } else {
        problems.list.sort_by_key(|d| d.position);
        Err(Diagnostics(problems.list))
    }
}

struct Problems<'a> {
    file: &'a str,
    source: &'a str,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, message: String) -> &mut Diagnostic {
        self.list
            .push(Diagnostic::at(self.file, self.source, Some(span), message));
        self.list.last_mut().expect("just pushed")
    }
}

fn kind_names() -> String {
    FixtureKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// RFC 6901: empty (the whole document) or `/`-separated tokens where `~` is
/// only ever `~0` or `~1`.
fn check_pointer(pointer: &str) -> Result<(), String> {
    if !(pointer.is_empty() || pointer.starts_with('/')) {
        return Err("a JSON pointer is empty or starts with `/`".into());
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err("`~` must be followed by 0 or 1 (`~0` is `~`, `~1` is `/`)".into());
        }
    }
    Ok(())
}

// ---- the file as written -------------------------------------------------

/// Only the fixtures: other top-level keys belong to the adapter parser.
#[derive(Debug, Default, Deserialize)]
struct RawFixtures {
    #[serde(default)]
    fixture: Vec<Spanned<RawFixture>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    id: Spanned<String>,
    kind: Spanned<String>,
    url: Option<Spanned<String>>,
    urls: Option<Spanned<Vec<Spanned<String>>>>,
    sha256: Spanned<String>,
    size: Spanned<i64>,
    format: Spanned<String>,
    #[serde(default)]
    expect: BTreeMap<Spanned<String>, serde_json::Value>,
    #[allow(dead_code)]
    description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn one(body: &str) -> String {
        format!("[project]\nid = \"x\"\n\n[[fixture]]\n{body}")
    }

    fn valid() -> String {
        one(&format!(
            "id = \"blocks-1\"\nkind = \"blocks\"\nurls = [\"https://example.org/b.tar.zst\", \"file:fixtures/b.tar.zst\"]\nsha256 = \"{DIGEST}\"\nsize = 42\nformat = \"tar.zst\"\n[fixture.expect]\n\"/tip/height\" = 1000\n\"\" = {{ ok = true }}\n"
        ))
    }

    fn errors(source: &str) -> String {
        parse_fixtures("a.toml", source).unwrap_err().to_string()
    }

    #[test]
    fn parses_a_fixture_and_ignores_other_tables() {
        let fixtures = parse_fixtures("a.toml", &valid()).unwrap();
        assert_eq!(fixtures.len(), 1);
        let f = &fixtures[0];
        assert_eq!(f.id, "blocks-1");
        assert_eq!(f.kind, FixtureKind::Blocks);
        assert_eq!(f.format, FixtureFormat::TarZst);
        assert_eq!(f.size, 42);
        assert_eq!(f.urls.len(), 2);
        assert_eq!(f.expect["/tip/height"], serde_json::json!(1000));
        assert_eq!(f.expect[""], serde_json::json!({"ok": true}));
        assert_eq!(f.file_name(), "b.tar.zst");
    }

    #[test]
    fn a_file_without_fixtures_has_none() {
        assert!(
            parse_fixtures("a.toml", "[project]\nid = \"x\"\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn single_url_and_every_kind_and_format_parse() {
        for kind in FixtureKind::ALL {
            for format in FixtureFormat::ALL {
                let source = one(&format!(
                    "id = \"f\"\nkind = \"{}\"\nurl = \"file:///srv/f.bin\"\nsha256 = \"{DIGEST}\"\nsize = 1\nformat = \"{}\"\n",
                    kind.as_str(),
                    format.as_str()
                ));
                let f = &parse_fixtures("a.toml", &source).unwrap()[0];
                assert_eq!((f.kind, f.format), (kind, format));
            }
        }
    }

    #[test]
    fn unknown_key_inside_a_fixture_is_positioned() {
        let text = errors(&valid().replace("size = 42", "size = 42\nsha512 = \"x\""));
        assert!(text.contains("a.toml:"), "{text}");
        assert!(text.contains("sha512"), "{text}");
    }

    #[test]
    fn bad_fields_each_get_a_positioned_error() {
        let source = one(
            "id = \"bad id\"\nkind = \"blokcs\"\nurls = [\"ftp://x/y\", \"file:../up\"]\nsha256 = \"ABC\"\nsize = 0\nformat = \"zip\"\n[fixture.expect]\n\"tip\" = 1\n\"/a~2\" = 2\n",
        );
        let text = errors(&source);
        for needle in [
            "a.toml:5:6: invalid fixture id",
            "a.toml:6:8: unknown fixture kind `blokcs`",
            "unsupported scheme",
            "climbs out of the adapter's directory",
            "a.toml:8:10: `sha256` must be 64 lowercase hex digits",
            "a.toml:9:8: `size` must be a positive number",
            "a.toml:10:10: unknown fixture format `zip`",
            "invalid expect key `tip`",
            "invalid expect key `/a~2`",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }

    #[test]
    fn duplicate_ids_are_rejected_with_the_first_line() {
        let first = valid();
        let body = first.split("[[fixture]]").nth(1).unwrap();
        let source = format!("{first}\n[[fixture]]{body}");
        let text = errors(&source);
        assert!(text.contains("duplicate fixture id `blocks-1`"), "{text}");
        assert!(text.contains("at line 4"), "{text}");
    }

    #[test]
    fn missing_and_empty_sources_are_rejected() {
        let no_url = one(&format!(
            "id = \"f\"\nkind = \"blocks\"\nsha256 = \"{DIGEST}\"\nsize = 1\nformat = \"tar\"\n"
        ));
        assert!(errors(&no_url).contains("has no source"));
        let empty = no_url.replace("kind", "urls = []\nkind");
        assert!(errors(&empty).contains("`urls` is empty"));
    }

    #[test]
    fn sources_are_classified() {
        assert_eq!(
            parse_source("file:fixtures/x.tar"),
            Ok(FixtureSource::File {
                path: "fixtures/x.tar".into(),
                relative: true
            })
        );
        assert_eq!(
            parse_source("file:///srv/x.tar"),
            Ok(FixtureSource::File {
                path: "/srv/x.tar".into(),
                relative: false
            })
        );
        assert_eq!(
            parse_source("file://localhost/srv/x.tar"),
            Ok(FixtureSource::File {
                path: "/srv/x.tar".into(),
                relative: false
            })
        );
        assert!(
            parse_source("file://other/x")
                .unwrap_err()
                .contains("host `other`")
        );
        assert!(parse_source("https://").unwrap_err().contains("no host"));
        assert_eq!(
            parse_source("HTTP://h:80/x"),
            Ok(FixtureSource::Http("HTTP://h:80/x".into()))
        );
        assert!(parse_source("s3://b/k").is_err());
    }

    #[test]
    fn plain_fixture_needs_a_file_name() {
        let source = one(&format!(
            "id = \"f\"\nkind = \"snapshot\"\nurl = \"https://h/dir/\"\nsha256 = \"{DIGEST}\"\nsize = 1\nformat = \"plain\"\n"
        ));
        assert!(errors(&source).contains("does not end in a file name"));
        let ok = source.replace("dir/", "dir/utxo.dat?x=1");
        assert_eq!(
            parse_fixtures("a.toml", &ok).unwrap()[0].file_name(),
            "utxo.dat"
        );
    }
}
