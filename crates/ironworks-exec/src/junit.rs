//! JUnit XML ingestion: test counts and the names of failed tests, from the
//! reports nextest, ctest `--output-junit`, pytest and most runners write.
//!
//! Counts come from the `<testcase>` elements themselves, not from the
//! `tests=`/`failures=` attributes, which some writers get wrong or omit.

use std::path::{Path, PathBuf};

use ironworks_core::record::{TestCounts, TestFailure};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// At most this many failures are recorded by name; the count stays exact.
pub const MAX_NAMED_FAILURES: usize = 200;

/// What a JUnit report says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub counts: TestCounts,
    pub failures: Vec<TestFailure>,
}

#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    #[error("the job declared a JUnit report at {0}, but did not write it")]
    Missing(PathBuf),
    #[error("cannot read JUnit report {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("JUnit report {path} is not well-formed XML at byte {position}: {message}")]
    Malformed {
        path: PathBuf,
        position: u64,
        message: String,
    },
}

pub fn read(path: &Path) -> Result<Report, JunitError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(JunitError::Missing(path.to_owned()));
        }
        Err(source) => {
            return Err(JunitError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    parse(&text).map_err(|(position, message)| JunitError::Malformed {
        path: path.to_owned(),
        position,
        message,
    })
}

/// A test case being read.
struct Case {
    name: String,
    outcome: Outcome,
    message: Option<String>,
}

#[derive(PartialEq)]
enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// Parse report bytes; errors carry the byte position.
pub fn parse(xml: &[u8]) -> Result<Report, (u64, String)> {
    let mut reader = Reader::from_reader(xml);
    let mut report = Report::default();
    let mut case: Option<Case> = None;
    let mut saw_root = false;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| (reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(element) | Event::Empty(element)
                if matches!(element.local_name().as_ref(), "testsuites" | "testsuite") =>
            {
                saw_root = true;
            }
            Event::Start(element) if element.local_name().as_ref() == "testcase" => {
                case = Some(new_case(&element));
            }
            Event::Empty(element) if element.local_name().as_ref() == "testcase" => {
                finish(&mut report, new_case(&element));
            }
            Event::Start(element) | Event::Empty(element) => {
                if let Some(case) = &mut case {
                    match element.local_name().as_ref() {
                        "failure" | "error" => {
                            case.outcome = Outcome::Failed;
                            case.message =
                                case.message.take().or_else(|| attr(&element, "message"));
                        }
                        "skipped" if case.outcome != Outcome::Failed => {
                            case.outcome = Outcome::Skipped;
                        }
                        _ => {}
                    }
                }
            }
            Event::End(element) if element.local_name().as_ref() == "testcase" => {
                if let Some(case) = case.take() {
                    finish(&mut report, case);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err((0, "no <testsuites> or <testsuite> element".into()));
    }
    Ok(report)
}

fn new_case(element: &BytesStart<'_>) -> Case {
    let name = attr(element, "name").unwrap_or_else(|| "(unnamed)".into());
    let name = match attr(element, "classname") {
        Some(class) if !class.is_empty() => format!("{class}::{name}"),
        _ => name,
    };
    Case {
        name,
        outcome: Outcome::Passed,
        message: None,
    }
}

fn finish(report: &mut Report, case: Case) {
    report.counts.total += 1;
    match case.outcome {
        Outcome::Passed => {}
        Outcome::Skipped => report.counts.skipped += 1,
        Outcome::Failed => {
            report.counts.failed += 1;
            if report.failures.len() < MAX_NAMED_FAILURES {
                report.failures.push(TestFailure {
                    name: case.name,
                    message: case.message,
                });
            }
        }
    }
}

fn attr(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cases_and_names_failures() {
        // Shaped like nextest's output: nested suites, failures with text,
        // an error, a skipped case, and attributes that disagree with the cases.
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="99" failures="0">
  <testsuite name="core" tests="4">
    <testcase name="parses" classname="core::adapter" time="0.01"/>
    <testcase name="links" classname="core::chain" time="0.02">
      <failure message="expected 3, got 4" type="assert">stack &amp; trace</failure>
      <system-out>noise</system-out>
    </testcase>
    <testcase name="io" classname=""><error message="disk &lt;full&gt;"/></testcase>
    <testcase name="later"><skipped/></testcase>
  </testsuite>
</testsuites>"#;
        let report = parse(xml).unwrap();
        assert_eq!(
            report.counts,
            TestCounts {
                total: 4,
                failed: 2,
                skipped: 1
            }
        );
        assert_eq!(report.failures[0].name, "core::chain::links");
        assert_eq!(
            report.failures[0].message.as_deref(),
            Some("expected 3, got 4")
        );
        assert_eq!(report.failures[1].name, "io");
        assert_eq!(report.failures[1].message.as_deref(), Some("disk <full>"));
    }

    #[test]
    fn a_single_suite_root_is_fine_and_garbage_is_not() {
        let report = parse(br#"<testsuite name="s"><testcase name="a"/></testsuite>"#).unwrap();
        assert_eq!(report.counts.total, 1);
        assert!(parse(b"not xml at all").is_err());
        assert!(parse(br#"<testsuite><testcase name="a"></testsuite>"#).is_err());
    }

    #[test]
    fn missing_file_is_named() {
        let err = read(Path::new("/nonexistent/junit.xml")).unwrap_err();
        assert!(matches!(err, JunitError::Missing(_)));
        assert!(err.to_string().contains("did not write it"));
    }
}
