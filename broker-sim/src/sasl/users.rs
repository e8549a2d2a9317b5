//! The `--users FILE` credential store.
//!
//! File format: one user per line, `USER:PASSWORD` (the first `:` separates them, so a
//! password may contain `:`; a user name may not). Blank lines and lines starting with `#` are
//! ignored; surrounding whitespace is trimmed from the user name only. Every user may log in
//! with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512.
//!
//! ```text
//! # kt broker users
//! alice:alice-secret
//! bob:p4ss:word
//! ```
//!
//! Passwords are not kept: at load each user gets a random salt per SCRAM mechanism and the
//! RFC 5802 StoredKey/ServerKey derived with PBKDF2 at 4096 iterations (Kafka's minimum).
//! PLAIN logins are checked by deriving the SCRAM-SHA-256 StoredKey from the given password.

use std::collections::HashMap;
use std::path::Path;

use super::scram::{Algorithm, ScramCredential};

/// Users and their derived credentials.
#[derive(Clone)]
pub struct Users {
    users: HashMap<String, UserCredentials>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print credentials, even derived ones.
        f.debug_struct("Users")
            .field("count", &self.users.len())
            .finish()
    }
}

#[derive(Clone)]
struct UserCredentials {
    sha256: ScramCredential,
    sha512: ScramCredential,
}

/// Why a users file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file could not be read.
    #[error("cannot read users file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `USER:PASSWORD`.
    #[error("users file line {line}: {why} (expected USER:PASSWORD)")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// The file defines no user, which would lock everyone out.
    #[error("users file defines no user")]
    Empty,
}

impl Users {
    /// Reads and parses a users file.
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Users::parse(&text)
    }

    /// Parses the file format above.
    pub fn parse(text: &str) -> Result<Users, UsersError> {
        let mut users = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
                continue;
            }
            let Some((user, password)) = raw.split_once(':') else {
                return Err(UsersError::Syntax {
                    line,
                    why: "no ':' between user and password",
                });
            };
            let user = user.trim();
            if user.is_empty() {
                return Err(UsersError::Syntax {
                    line,
                    why: "empty user name",
                });
            }
            if password.is_empty() {
                return Err(UsersError::Syntax {
                    line,
                    why: "empty password",
                });
            }
            if users.contains_key(user) {
                return Err(UsersError::Syntax {
                    line,
                    why: "user defined twice",
                });
            }
            users.insert(
                user.to_owned(),
                UserCredentials {
                    sha256: ScramCredential::derive(Algorithm::Sha256, password.as_bytes()),
                    sha512: ScramCredential::derive(Algorithm::Sha512, password.as_bytes()),
                },
            );
        }
        if users.is_empty() {
            return Err(UsersError::Empty);
        }
        Ok(Users { users })
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there are no users (never, for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub(crate) fn scram(&self, user: &str, algorithm: Algorithm) -> Option<&ScramCredential> {
        let u = self.users.get(user)?;
        Some(match algorithm {
            Algorithm::Sha256 => &u.sha256,
            Algorithm::Sha512 => &u.sha512,
        })
    }

    /// PLAIN: true when `password` is the user's.
    pub(crate) fn check_password(&self, user: &str, password: &[u8]) -> bool {
        self.users
            .get(user)
            .is_some_and(|u| u.sha256.matches_password(password))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_users_and_refuses_bad_lines() {
        let u = Users::parse("# comment\n\nalice:secret\n bob : p:w \n").unwrap();
        assert_eq!(u.len(), 2);
        assert!(u.check_password("alice", b"secret"));
        assert!(!u.check_password("alice", b"Secret"));
        assert!(u.check_password("bob", b" p:w "));
        assert!(!u.check_password("carol", b"secret"));
        assert!(matches!(
            Users::parse("alice"),
            Err(UsersError::Syntax { line: 1, .. })
        ));
        assert!(matches!(
            Users::parse("a:b\n:x"),
            Err(UsersError::Syntax { line: 2, .. })
        ));
        assert!(matches!(Users::parse("a:"), Err(UsersError::Syntax { .. })));
        assert!(matches!(
            Users::parse("a:1\na:2"),
            Err(UsersError::Syntax { line: 2, .. })
        ));
        assert!(matches!(Users::parse("# none\n"), Err(UsersError::Empty)));
        assert!(!format!("{u:?}").contains("secret"));
    }
}
