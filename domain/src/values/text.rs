//! Length rules for free text (names, descriptions, categories) that stays a plain `String`.

/// Why a piece of free text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextProblem {
    Empty,
    TooLong,
}

/// Trims `raw` and requires 1..=`max_chars` characters.
pub(crate) fn required(raw: &str, max_chars: usize) -> Result<String, TextProblem> {
    let trimmed = optional(raw, max_chars)?;
    if trimmed.is_empty() {
        return Err(TextProblem::Empty);
    }
    Ok(trimmed)
}

/// Trims `raw` and allows 0..=`max_chars` characters.
pub(crate) fn optional(raw: &str, max_chars: usize) -> Result<String, TextProblem> {
    let trimmed = raw.trim();
    // Limits are in characters, not bytes, so accented names are not penalised.
    if trimmed.chars().count() > max_chars {
        return Err(TextProblem::TooLong);
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed() {
        assert_eq!(required("  Mug ", 10), Ok("Mug".to_owned()));
    }

    #[test]
    fn required_text_refuses_blank_input() {
        assert_eq!(required("   ", 10), Err(TextProblem::Empty));
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert_eq!(required("ééé", 3), Ok("ééé".to_owned()));
        assert_eq!(required("éééé", 3), Err(TextProblem::TooLong));
    }

    #[test]
    fn optional_text_may_be_empty() {
        assert_eq!(optional("  ", 10), Ok(String::new()));
    }
}
