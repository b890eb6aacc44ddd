//! The content-addressed cache: `<state>/fixtures/sha256/<digest>`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use ironworks_core::fixture::{Fixture, FixtureSource, parse_source};
use sha2::{Digest, Sha256};

use crate::error::{FixtureError, SourceError, SourceFailure};
use crate::{HASH_BUFFER, hex, sha256_file};

/// How hard to try an http(s) source before moving on to the next one.
/// Local `file:` sources are tried once: their failures are not transient.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries per URL, at least 1.
    pub attempts: u32,
    /// Pause before the second try; doubled before each later one.
    pub backoff: Duration,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Limit on any single read once connected (a stalled transfer).
    pub read_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// The fixture cache of one state directory.
#[derive(Debug)]
pub struct FixtureStore {
    dir: PathBuf,
    retry: RetryPolicy,
    agent: ureq::Agent,
}

impl FixtureStore {
    /// Open (creating if needed) the cache under `state_dir/fixtures/sha256`.
    pub fn open(state_dir: &Path) -> io::Result<FixtureStore> {
        let dir = state_dir.join("fixtures").join("sha256");
        fs::create_dir_all(&dir)?;
        Ok(FixtureStore::with_dir(dir, RetryPolicy::default()))
    }

    /// The same store, trying http sources according to `retry`.
    pub fn with_retry(self, retry: RetryPolicy) -> FixtureStore {
        FixtureStore::with_dir(self.dir, retry)
    }

    fn with_dir(dir: PathBuf, retry: RetryPolicy) -> FixtureStore {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(retry.connect_timeout))
            .timeout_per_read(Some(retry.read_timeout))
            .timeout_recv_response(Some(retry.read_timeout))
            // Statuses are classified here (retry 5xx, not 404).
            .http_status_as_error(false)
            .user_agent(concat!("ironworks/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        FixtureStore { dir, retry, agent }
    }

    /// The cache directory (`<state>/fixtures/sha256`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the fixture's bytes live once fetched.
    pub fn entry_path(&self, fixture: &Fixture) -> PathBuf {
        self.dir.join(&fixture.sha256)
    }

    /// The verified cache entry for `fixture`, downloading it first if it is
    /// absent. Relative `file:` URLs are resolved against `base_dir` (the
    /// adapter file's directory).
    ///
    /// An entry already in the cache is checked for size and sha256 on every
    /// call; if it does not match, it is removed and an error is returned
    /// (the caller must not run anything with it; fetching again downloads
    /// afresh).
    pub fn fetch(&self, fixture: &Fixture, base_dir: &Path) -> Result<PathBuf, FixtureError> {
        if let Some(path) = self.verify(fixture)? {
            return Ok(path);
        }
        let mut attempts = Vec::new();
        for url in &fixture.urls {
            match self.fetch_url(fixture, url, base_dir)? {
                Ok(path) => return Ok(path),
                Err(failure) => attempts.push(failure),
            }
        }
        Err(FixtureError::Unavailable {
            id: fixture.id.clone(),
            attempts,
        })
    }

    /// Verify the cache entry: `Ok(None)` when absent, `Ok(Some(path))` when
    /// it matches, an error (and the entry removed) when it does not.
    pub fn verify(&self, fixture: &Fixture) -> Result<Option<PathBuf>, FixtureError> {
        let path = self.entry_path(fixture);
        let read_error = |source| FixtureError::Read {
            id: fixture.id.clone(),
            path: path.clone(),
            source,
        };
        let size = match fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(read_error(err)),
        };
        // Size first: it is free, and a truncated entry need not be hashed.
        if size != fixture.size {
            self.remove_entry(fixture, &path)?;
            return Err(FixtureError::CorruptEntrySize {
                id: fixture.id.clone(),
                path,
                expected: fixture.size,
                actual: size,
            });
        }
        let (_, actual) = sha256_file(&path).map_err(read_error)?;
        if actual != fixture.sha256 {
            self.remove_entry(fixture, &path)?;
            return Err(FixtureError::CorruptEntry {
                id: fixture.id.clone(),
                path,
                expected: fixture.sha256.clone(),
                actual,
            });
        }
        Ok(Some(path))
    }

    fn remove_entry(&self, fixture: &Fixture, path: &Path) -> Result<(), FixtureError> {
        match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(self.cache_error(fixture, path, source)),
        }
    }

    fn cache_error(&self, fixture: &Fixture, path: &Path, source: io::Error) -> FixtureError {
        FixtureError::Cache {
            id: fixture.id.clone(),
            path: path.to_owned(),
            source,
        }
    }

    /// One URL, with retries for http. The outer error is fatal (the cache
    /// cannot be written: no other source would help); the inner one sends
    /// the caller on to the next source.
    fn fetch_url(
        &self,
        fixture: &Fixture,
        url: &str,
        base_dir: &Path,
    ) -> Result<Result<PathBuf, SourceFailure>, FixtureError> {
        let failure = |tries, error| {
            Ok(Err(SourceFailure {
                url: url.to_owned(),
                tries,
                error,
            }))
        };
        match parse_source(url) {
            Err(why) => failure(1, SourceError::Invalid(why)),
            Ok(FixtureSource::File { path, relative }) => {
                let path = if relative {
                    base_dir.join(path)
                } else {
                    PathBuf::from(path)
                };
                match File::open(&path) {
                    Ok(mut file) => match self.store(fixture, &mut file)? {
                        Ok(path) => Ok(Ok(path)),
                        Err(error) => failure(1, error),
                    },
                    Err(err) => failure(
                        1,
                        SourceError::Transport(format!("cannot open {}: {err}", path.display())),
                    ),
                }
            }
            Ok(FixtureSource::Http(url)) => {
                let attempts = self.retry.attempts.max(1);
                let mut backoff = self.retry.backoff;
                for attempt in 1..=attempts {
                    let (error, transient) = match self.fetch_http(fixture, &url)? {
                        Ok(path) => return Ok(Ok(path)),
                        Err(failed) => failed,
                    };
                    if !transient || attempt == attempts {
                        return failure(attempt, error);
                    }
                    thread::sleep(backoff);
                    backoff = backoff.saturating_mul(2);
                }
                unreachable!("the last attempt returns")
            }
        }
    }

    /// One GET. The inner error says why and whether trying again may help.
    fn fetch_http(
        &self,
        fixture: &Fixture,
        url: &str,
    ) -> Result<Result<PathBuf, (SourceError, bool)>, FixtureError> {
        if !cfg!(feature = "https")
            && url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            return Ok(Err((SourceError::HttpsDisabled, false)));
        }
        let response = match self.agent.get(url).call() {
            Ok(response) => response,
            Err(err) => {
                return Ok(Err((
                    SourceError::Transport(err.to_string()),
                    transient(&err),
                )));
            }
        };
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            // Server trouble and rate limits pass; a 404 will not.
            let transient = status >= 500 || status == 429 || status == 408;
            return Ok(Err((SourceError::Status(status), transient)));
        }
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(declared) = declared
            && declared != fixture.size
        {
            return Ok(Err((
                SourceError::Size {
                    expected: fixture.size,
                    actual: declared,
                },
                false,
            )));
        }
        let mut body = response.into_body().into_reader();
        Ok(self.store(fixture, &mut body)?.map_err(|error| {
            // A connection cut mid-body is worth another try; wrong bytes are not.
            let transient = matches!(error, SourceError::Io(_));
            (error, transient)
        }))
    }

    /// Copy `source` into a temp file in the cache directory, hashing on the
    /// way, and rename it into place only if size and digest match. On any
    /// failure the temp file is removed, so the cache never holds a partial
    /// or wrong entry.
    fn store(
        &self,
        fixture: &Fixture,
        source: &mut dyn Read,
    ) -> Result<Result<PathBuf, SourceError>, FixtureError> {
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{}-", fixture.id))
            .tempfile_in(&self.dir)
            .map_err(|err| self.cache_error(fixture, &self.dir, err))?;
        // Read one byte past the declared size: enough to tell "too large"
        // without letting a wrong source fill the disk.
        let mut limited = source.take(fixture.size + 1);
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; HASH_BUFFER];
        let mut size = 0u64;
        loop {
            let n = match limited.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Ok(Err(SourceError::Io(err))),
            };
            size += n as u64;
            if size > fixture.size {
                return Ok(Err(SourceError::TooLarge {
                    expected: fixture.size,
                }));
            }
            hasher.update(&buffer[..n]);
            temp.write_all(&buffer[..n])
                .map_err(|err| self.cache_error(fixture, temp.path(), err))?;
        }
        if size != fixture.size {
            return Ok(Err(SourceError::Size {
                expected: fixture.size,
                actual: size,
            }));
        }
        let actual = hex(&hasher.finalize());
        if actual != fixture.sha256 {
            return Ok(Err(SourceError::Digest {
                expected: fixture.sha256.clone(),
                actual,
            }));
        }
        let path = self.entry_path(fixture);
        temp.as_file()
            .sync_all()
            .map_err(|err| self.cache_error(fixture, temp.path(), err))?;
        temp.persist(&path)
            .map_err(|err| self.cache_error(fixture, &path, err.error))?;
        // Make the rename itself durable before anyone relies on the entry.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(Ok(path))
    }
}

/// Transport errors worth another try: the network or the server may recover.
fn transient(err: &ureq::Error) -> bool {
    !matches!(
        err,
        ureq::Error::BadUri(_)
            | ureq::Error::Http(_)
            | ureq::Error::InvalidProxyUrl
            | ureq::Error::TooManyRedirects
            | ureq::Error::RedirectFailed
            | ureq::Error::Tls(_)
            | ureq::Error::TlsRequired
            | ureq::Error::RequireHttpsOnly(_)
    )
}
