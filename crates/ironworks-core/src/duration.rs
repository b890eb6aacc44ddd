//! Human-friendly durations in adapter files: `"90s"`, `"10m"`, `"2h"`, `"1h30m"`.

use std::time::Duration;

/// Parse a duration as written in an adapter. Zero is rejected: a zero timeout
/// would kill every job before it starts.
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(
            "expected a duration such as \"90s\", \"10m\" or \"2h\", found an empty string".into(),
        );
    }
    let duration = humantime::parse_duration(trimmed).map_err(|err| {
        format!("expected a duration such as \"90s\", \"10m\" or \"2h\", found \"{text}\" ({err})")
    })?;
    if duration.is_zero() {
        return Err(format!(
            "a duration must be longer than zero, found \"{text}\""
        ));
    }
    Ok(duration)
}

/// Format a duration the way people read it in a listing: `850ms`, `12.3s`, `4m05s`.
pub fn display(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        let secs = duration.as_secs();
        if secs < 3_600 {
            format!("{}m{:02}s", secs / 60, secs % 60)
        } else {
            format!("{}h{:02}m", secs / 3_600, (secs % 3_600) / 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
    }

    #[test]
    fn rejects_garbage_and_zero() {
        assert!(
            parse("ten minutes")
                .unwrap_err()
                .contains("expected a duration")
        );
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("0s").unwrap_err().contains("longer than zero"));
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(display(Duration::from_millis(850)), "850ms");
        assert_eq!(display(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(display(Duration::from_secs(245)), "4m05s");
        assert_eq!(display(Duration::from_secs(7_500)), "2h05m");
    }
}
