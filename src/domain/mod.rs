//! Validated values: once parsed, an e-mail, password or nickname cannot be invalid.
//! Messages name the field, as the front end shows `message` to the user as it is.

use crate::error::AppError;

pub mod diary;
pub mod html;
pub mod image;

pub(crate) fn field_error(field: &str, problem: &str) -> AppError {
    AppError::bad_request(format!("\"{field}\" {problem}"))
}

/// A required field that was not sent.
pub(crate) fn missing(field: &str) -> AppError {
    field_error(field, "항목이 필요합니다.")
}

/// A required field that was sent blank.
pub(crate) fn blank(field: &str) -> AppError {
    field_error(field, "항목은 비어 있을 수 없습니다.")
}

/// Takes a required text field: present, a string, not blank.
pub fn required<'a>(field: &str, value: &'a Option<String>) -> Result<&'a str, AppError> {
    match value.as_deref().map(str::trim) {
        None => Err(missing(field)),
        Some("") => Err(blank(field)),
        Some(v) => Ok(v),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trimmed and lower-cased; a valid address with a dotted domain and an alphabetic TLD.
    pub fn parse(field: &str, raw: &str) -> Result<Email, AppError> {
        let e = raw.trim().to_lowercase();
        let bad = || field_error(field, "은(는) 올바른 이메일 주소가 아닙니다.");
        if e.len() > 320 || e.parse::<lettre::Address>().is_err() {
            return Err(bad());
        }
        let (_, domain) = e.rsplit_once('@').ok_or_else(bad)?;
        let tld = domain.rsplit_once('.').map(|(_, t)| t).ok_or_else(bad)?;
        if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(bad());
        }
        Ok(Email(e))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8–20 characters of `A-Za-z0-9@$!%*?&#`, with a lower-case letter, a digit and a symbol
/// (the original backend's rule, contract §4.1).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, raw: &str) -> Result<Password, AppError> {
        const SYMBOLS: &str = "@$!%*?&#";
        let n = raw.chars().count();
        let ok = (8..=20).contains(&n)
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || SYMBOLS.contains(c))
            && raw.chars().any(|c| c.is_ascii_lowercase())
            && raw.chars().any(|c| c.is_ascii_digit())
            && raw.chars().any(|c| SYMBOLS.contains(c));
        if !ok {
            return Err(field_error(
                field,
                "은(는) 8~20자이며 영문 소문자, 숫자, 특수문자(@$!%*?&#)를 하나 이상 포함해야 합니다.",
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 2–10 characters, each a Hangul syllable, an ASCII letter or a digit.
#[derive(Debug, Clone)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Username, AppError> {
        let u = raw.trim();
        let n = u.chars().count();
        let ok = (2..=10).contains(&n)
            && u.chars()
                .all(|c| c.is_ascii_alphanumeric() || ('\u{AC00}'..='\u{D7A3}').contains(&c));
        if !ok {
            return Err(field_error(
                field,
                "은(는) 2~10자의 한글, 영문, 숫자만 사용할 수 있습니다.",
            ));
        }
        Ok(Username(u.to_string()))
    }

    /// A display name from a social provider, made to fit the same rule where it can.
    pub fn from_provider(raw: Option<&str>, fallback: &str) -> String {
        let cleaned: String = raw
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || ('\u{AC00}'..='\u{D7A3}').contains(c))
            .take(10)
            .collect();
        if cleaned.chars().count() >= 2 {
            cleaned
        } else {
            fallback.chars().take(10).collect()
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("email", " A@Example.COM ").unwrap().as_str(),
            "a@example.com"
        );
        for bad in ["a", "a@b", "a@b.c", "@b.com", "a@b.c0m", "a b@c.com"] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_follow_the_original_rule() {
        assert!(Password::parse("password", "abcd123!").is_ok());
        assert!(Password::parse("password", "ABCD123!").is_err()); // no lower case
        assert!(Password::parse("password", "abcdefg!").is_err()); // no digit
        assert!(Password::parse("password", "abcd1234").is_err()); // no symbol
        assert!(Password::parse("password", "ab1!").is_err()); // short
        assert!(Password::parse("password", "abcd123!^").is_err()); // ^ not allowed
    }

    #[test]
    fn usernames() {
        assert!(Username::parse("username", "구름이").is_ok());
        assert!(Username::parse("username", "cloud9").is_ok());
        assert!(Username::parse("username", "a").is_err());
        assert!(Username::parse("username", "구름 이").is_err());
        assert!(Username::parse("username", "<script>").is_err());
        assert_eq!(Username::from_provider(Some("홍 길동!"), "user"), "홍길동");
        assert_eq!(Username::from_provider(None, "kakao1234"), "kakao1234");
    }
}
